"""/metrics (bearer token, else loopback only), /readyz and /healthz, over real HTTP."""
from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from adapters.dashboard import add_routes, build_app
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.adapters.conftest import free_port
from tests.adapters.dashboard.conftest import SORA_BOT, Console, browser_like, sign_in

METRICS_TOKEN = "metrics-token-SECRET-91ab"


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, host, port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def _metric(text: str, name: str) -> float:
    hit = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert hit, f"{name} missing from\n{text}"
    return float(hit.group(1))


async def test_metrics_count_jobs_and_spend(console: Console, stand_in) -> None:
    await console.make_job("ann", "one")
    await console.make_job("bob", "two", duration=8)
    stand_in.state.fail("submit", "generation")
    await console.make_job("ann", "three")
    async with console.http.get(f"{console.url}/metrics") as resp:  # from 127.0.0.1
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    assert _metric(text, 'sora_jobs_total{status="delivered"}') == 2
    assert _metric(text, 'sora_jobs_total{status="failed"}') == 1
    assert _metric(text, 'sora_spent_usd_total{team="local"}') == pytest.approx(0.96)
    assert _metric(text, "sora_job_duration_seconds_count") == 2
    assert _metric(text, 'sora_job_duration_seconds_bucket{le="+Inf"}') == 2
    assert _metric(text, "sora_job_duration_seconds_sum") > 0
    assert _metric(text, "sora_queue_waiting") == 0 and _metric(text, "sora_slots_busy") == 0
    assert _metric(text, 'sora_jobs_unfinished{status="submitted"}') == 0
    assert "# TYPE sora_job_duration_seconds histogram" in text


async def test_metrics_token_is_required_when_set(runtime: Runtime) -> None:
    settings = runtime.settings.with_(metrics_token=METRICS_TOKEN)
    async with open_runtime(settings) as rt, serving(build_app(rt)) as port, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/metrics"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
            async with http.get(url, headers=headers) as resp:
                assert resp.status == 401  # even from loopback
                assert METRICS_TOKEN not in await resp.text()
        async with http.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as resp:
            assert resp.status == 200 and "sora_slots_total" in await resp.text()


def _outside_address() -> str | None:
    """This machine's address on a real interface (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_without_a_token_metrics_answer_loopback_only(runtime: Runtime) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("no non-loopback interface to call from")
    async with serving(build_app(runtime), host="0.0.0.0") as port, aiohttp.ClientSession() as http:
        async with http.get(f"http://{address}:{port}/metrics") as resp:
            assert resp.status == 403 and "METRICS_TOKEN" in await resp.text()
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200


async def test_readyz_checks_the_database_and_the_provider(console: Console, settings: Settings) -> None:
    async with console.http.get(f"{console.url}/readyz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True, "database": True, "provider": True}
    async with console.http.get(f"{console.url}/healthz") as resp:
        assert resp.status == 200
    gone = settings.with_(base_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    async with open_runtime(gone) as rt, serving(build_app(rt)) as port, aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            assert resp.status == 503
            assert await resp.json() == {"ok": False, "database": True, "provider": False}


async def test_add_routes_mounts_beside_existing_routes(runtime: Runtime) -> None:
    """How `sora-bot run` mounts it: on the app that already serves /healthz and Slack."""
    async def existing(request: web.Request) -> web.Response:
        return web.Response(text="theirs")

    app = web.Application()
    app.router.add_get("/healthz", existing)
    add_routes(app, runtime)
    async with serving(app) as port, aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert await resp.text() == "theirs"
        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{port}/") as resp:
            assert resp.status == 401


async def test_sora_bot_dashboard_serves_alone(console: Console) -> None:
    """`sora-bot dashboard` as its own process, on the same database."""
    port = free_port()
    env = {**console.env, "PORT": str(port)}
    proc = subprocess.Popen([SORA_BOT, "dashboard"], env=env, cwd=console.cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("sora-bot dashboard did not start")
        link = subprocess.run([SORA_BOT, "admin-link"], env=env, cwd=console.cwd, text=True,
                              capture_output=True, timeout=60).stdout.splitlines()[-1]
        assert link.startswith(f"http://127.0.0.1:{port}/login/")
        async with browser_like() as browser:
            assert "Team local" in await sign_in(browser, link)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert link.rsplit(".", 1)[1] not in err  # the link's signature is never logged
