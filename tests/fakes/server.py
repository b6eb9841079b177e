"""What every fake service shares: an aiohttp app served on 127.0.0.1 at a free port."""
from __future__ import annotations

from aiohttp import web


class LoopbackServer:
    """Mixin: `_serve(app)` starts it and sets `port`; `_stop()` ends it."""

    port: int = 0
    _runner: web.AppRunner | None = None

    async def _serve(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
