"""The bot's own HTTP endpoints (`/healthz` now, the dashboard later), served by `sora-bot
run` when no Slack HTTP server already holds PORT. Add routes in `build_app`."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters.startup import port_error
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)


def build_app(runtime: Runtime) -> web.Application:
    """The application; handlers reach the runtime as `request.app[RUNTIME]`."""
    app = web.Application()
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Up, and the ledger answers (a Docker HEALTHCHECK and load balancers ask this)."""
    runtime = request.app[RUNTIME]
    try:
        await runtime.engine.jobs(limit=1)
    except Exception:  # any store failure means unhealthy; the log keeps why
        log.exception("Health check: the store did not answer")
        return web.json_response({"ok": False}, status=503)
    return web.json_response({"ok": True})


@contextlib.asynccontextmanager
async def serving(app: web.Application, port: int, host: str = "0.0.0.0") -> AsyncIterator[int]:
    """Serve `app` while the block runs; yields the bound port. A port in use is a
    ConfigError naming PORT, not a traceback."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise port_error("PORT", port, exc) from None
        bound = int(runner.addresses[0][1])
        log.info("HTTP endpoints on port %s", bound)
        yield bound
    finally:
        await runner.cleanup()
