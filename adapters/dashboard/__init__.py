"""The admin console: a web dashboard of spend, jobs and budgets for one team per session.

`add_routes(app, runtime)` mounts it on an existing aiohttp Application (the bot's one HTTP
server); `build_app(runtime)` is the console alone, and `serve(runtime)` runs that until
cancelled (`sora-bot dashboard`)."""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from adapters.dashboard.app import Dashboard, add_routes, build_app
from bot.admin_links import base_url
from bot.runtime import Runtime

log = logging.getLogger(__name__)


async def serve(runtime: Runtime, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Run the dashboard alone until cancelled."""
    runner = web.AppRunner(build_app(runtime), access_log=None)  # URLs carry sign-in tokens
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, runtime.settings.port if port is None else port)
        await site.start()
        log.info("Dashboard on %s (sign in with `sora-bot admin-link`)", base_url(runtime.settings))
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


__all__ = ["Dashboard", "add_routes", "build_app", "serve"]
