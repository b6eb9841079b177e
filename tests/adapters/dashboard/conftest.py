"""The dashboard served on 127.0.0.1 over a runtime with real jobs (made by the engine
against the APIMaster stand-in), and the real `sora-bot` CLI run as a process on the same
database."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.dashboard import build_app
from bot.admin_links import key_path
from bot.models import Job, Requester, VideoRequest
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.adapters.conftest import free_port
from tests.conftest import TEST_KEY, StandIn

SORA_BOT = str(Path(sys.executable).with_name("sora-bot"))


class QuietEvents:
    """A front end that shows nothing: the dashboard reads what the store keeps."""

    async def accepted(self, job: Job) -> None: ...
    async def progress(self, job: Job, progress: object) -> None: ...
    async def completed(self, job: Job, video: Path) -> None: ...
    async def failed(self, job: Job, error: object) -> None: ...


@dataclass
class Console:
    rt: Runtime
    url: str
    http: aiohttp.ClientSession
    env: dict[str, str]
    cwd: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`sora-bot ARGS` as a separate process on the same database."""
        return subprocess.run([SORA_BOT, *args], env=self.env, cwd=self.cwd, text=True,
                              capture_output=True, timeout=60)

    def link(self, team: str = "local", *extra: str) -> str:
        done = self.cli("admin-link", "--team", team, *extra)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    async def make_job(self, user: str, prompt: str, *, team: str = "local", name: str | None = None,
                       model: str = "sora-2", duration: int = 4, resolution: str = "720p") -> Job:
        request = VideoRequest(prompt=prompt, model=model, duration=duration, resolution=resolution)
        accepted = await self.rt.engine.submit(request, Requester("cli", team, user, name), QuietEvents())
        return await self.rt.engine.wait(accepted.job.id)

    async def signed_in(self, team: str = "local") -> aiohttp.ClientSession:
        """A new browser-like client with a session for `team`."""
        client = browser_like()
        await sign_in(client, self.link(team))
        return client


def browser_like() -> aiohttp.ClientSession:
    """A client that keeps cookies, also those of a bare IP address like 127.0.0.1."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(client: aiohttp.ClientSession, url: str) -> str:
    """Open a sign-in link as a person does: the page, then its button. Returns the
    overview's HTML."""
    async with client.get(url) as resp:
        assert resp.status == 200 and 'method="post"' in await resp.text(), resp.status
    async with client.post(url) as resp:
        assert resp.status == 200 and resp.url.path == "/", resp.status
        return await resp.text()


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return settings.with_(port=free_port(), user_daily_usd=None)


@pytest.fixture
async def console(console_settings: Settings, stand_in: StandIn, tmp_path: Path) -> AsyncIterator[Console]:
    s = console_settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SORA_", "SLACK_", "DISCORD_"))}
    env.update({"APIMASTER_API_KEY": TEST_KEY, "APIMASTER_BASE_URL": stand_in.base_url,
                "SORA_DB": str(s.database), "SORA_MEDIA_DIR": str(s.media_dir), "PORT": str(s.port),
                "SORA_USER_DAILY_USD": "none", "PUBLIC_BASE_URL": "",
                # The CLI's links open the runtime's dashboard: one key (with PostgreSQL
                # there is no SQLite file for it to sit beside).
                "SORA_ADMIN_KEY_FILE": str(key_path(s))})
    cwd = tmp_path / "cwd"  # no .env from the repository
    cwd.mkdir()
    async with open_runtime(s) as rt, aiohttp.ClientSession() as http:
        runner = web.AppRunner(build_app(rt), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", s.port).start()
        try:
            yield Console(rt, f"http://127.0.0.1:{s.port}", http, env, cwd)
        finally:
            await runner.cleanup()
