"""The APIMaster stand-in in a process of its own, over HTTP or HTTPS, for the benchmark.

`sora-bot fake-api` serves plain HTTP only; this serves the same app
(`adapters.stand_in.make_app`) and adds TLS with a certificate given on the command line,
so the HTTPS variant pays for the handshakes and encryption that production pays for.

    python benchmarks/standin.py --job-seconds 3 [--cert cert.pem --key key.pem]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARKER = "BENCH_STAND_IN_URL="


class StandIn:
    """This file run as a subprocess, configured over `POST /_control`."""

    def __init__(self, workdir: Path, job_seconds: float, cert: Path | None = None,
                 key: Path | None = None) -> None:
        self.log_path = workdir / "stand-in.log"
        self.log = self.log_path.open("w")
        tls = ["--cert", str(cert), "--key", str(key)] if cert and key else []
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--job-seconds", str(job_seconds), *tls],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._context = None
        if cert:
            from benchmarks.tls import client_context

            self._context = client_context(cert)
        self.base_url = self._wait_for_url()
        self.origin = self.base_url.removesuffix("/v1")

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if MARKER in text:
                return text.split(MARKER, 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the stand-in did not start:\n{self.log_path.read_text()}")

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.origin + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60, context=self._context) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def serve(job_seconds: float, context: ssl.SSLContext | None) -> None:
    from aiohttp import web

    from adapters.stand_in.app import StandInState, make_app

    app = make_app(StandInState(job_seconds=job_seconds))

    async def handshakes(request: web.Request) -> web.Response:
        # TLS handshakes this server has accepted: how well each client reuses connections.
        return web.json_response({"accepted": context.session_stats()["accept"] if context else None})

    app.router.add_get("/_bench/handshakes", handshakes)  # "/_" paths are not counted as requests
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if context else "http"
    print(f"{MARKER}{scheme}://127.0.0.1:{port}/v1", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--job-seconds", type=float, default=3.0)
    p.add_argument("--cert", type=Path)
    p.add_argument("--key", type=Path)
    args = p.parse_args()
    context = None
    if args.cert:
        from benchmarks.tls import server_context

        context = server_context(args.cert, args.key)
    asyncio.run(serve(args.job_seconds, context))


if __name__ == "__main__":
    main()
