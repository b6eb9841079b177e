"""Limits on the bot's one HTTP server, which faces the internet for Slack: so many open
connections at most, a request's headers within seconds of connecting and its body within
seconds more. aiohttp has no header timeout of its own, so a connection is watched from
`connection_made` until a request reaches the middleware below."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 256
    header_seconds: float = 10.0   # from connecting until the request line and headers are in
    body_seconds: float = 10.0     # then until the whole body is in
    keepalive_seconds: float = 15.0


DEFAULT_LIMITS = ServerLimits()


class Guard:
    """Counts open connections and times each one's first request."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.open = 0
        self._timers: dict[asyncio.BaseTransport, asyncio.TimerHandle] = {}

    def protocol(self, inner: asyncio.Protocol) -> asyncio.Protocol:
        return _Watched(inner, self)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.transport is not None:
            timer = self._timers.pop(request.transport, None)
            if timer is not None:
                timer.cancel()
        if request.can_read_body:
            try:  # read here, within bounds; handlers then get the cached body
                await asyncio.wait_for(request.read(), self.limits.body_seconds)
            except TimeoutError:
                log.info("Rejected a request from %s: its body did not arrive in %g s",
                         request.remote, self.limits.body_seconds)
                response = web.Response(status=408, text="Request body too slow.")
                response.force_close()  # do not linger reading the rest of a trickle
                return response
        return await handler(request)


class _Watched(asyncio.Protocol):
    """Passes everything to aiohttp's handler; closes a connection over the limit at once,
    and one whose headers do not come in time."""

    def __init__(self, inner: asyncio.Protocol, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        guard = self.guard
        if guard.open >= guard.limits.max_connections:
            log.warning("Refused a connection: %d are open already", guard.open)
            transport.close()
            return
        guard.open += 1
        self.transport = transport
        guard._timers[transport] = asyncio.get_running_loop().call_later(
            guard.limits.header_seconds, self._too_slow, transport)
        self.inner.connection_made(transport)

    def _too_slow(self, transport: asyncio.BaseTransport) -> None:
        self.guard._timers.pop(transport, None)
        log.info("Closed a connection that sent no request in %g s", self.guard.limits.header_seconds)
        transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is None:  # refused: never counted, never handed to aiohttp
            return
        self.guard.open -= 1
        timer = self.guard._timers.pop(self.transport, None)
        if timer is not None:
            timer.cancel()
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site, with every connection's protocol watched by a Guard."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: Guard) -> None:
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self.guard.protocol(server()), self._host, self._port,
            backlog=self._backlog, reuse_address=self._reuse_address)
