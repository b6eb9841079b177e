"""The bot's own HTTP endpoints: `/healthz` and the admin dashboard (adapters/dashboard).
`sora-bot run` serves them on PORT in every mode: on their own app, or on the Slack
adapter's when Slack already holds PORT (`add_routes`)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from adapters import dashboard
from adapters.startup import port_error
from adapters.web.guard import DEFAULT_LIMITS, Guard, GuardedSite, ServerLimits
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)


def build_app(runtime: Runtime) -> web.Application:
    """The application; handlers reach the runtime as `request.app[RUNTIME]`."""
    app = web.Application()
    add_routes(app, runtime)
    return app


def add_routes(app: web.Application, runtime: Runtime) -> None:
    """Mount the bot's endpoints on `app`, which may already serve /slack/events."""
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    dashboard.add_routes(app, runtime, healthz=False)


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
async def serving(app: web.Application, port: int, host: str = "0.0.0.0",
                  limits: ServerLimits = DEFAULT_LIMITS) -> AsyncIterator[int]:
    """Serve `app` while the block runs, within `limits`; yields the bound port. A port in
    use is a ConfigError naming PORT, not a traceback. No access log: sign-in links and
    media tokens are in URLs."""
    guard = Guard(limits)
    app.middlewares.insert(0, guard.middleware)  # outermost: bounds every later read
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=limits.keepalive_seconds,
                           lingering_time=limits.body_seconds)
    await runner.setup()
    try:
        try:
            await GuardedSite(runner, host, port, guard).start()
        except OSError as exc:
            raise port_error("PORT", port, exc) from None
        bound = int(runner.addresses[0][1])
        log.info("HTTP endpoints on port %s", bound)
        yield bound
    finally:
        await runner.cleanup()
