"""A process-wide pace for requests to APIMaster, so hundreds of jobs do not cause 429 storms."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Literal

#: "submit": a request that starts new work; "poll": one about work already under way.
Kind = Literal["submit", "poll"]


class RateLimiter:
    """Token bucket: at most `rate` requests a second on average, bursts up to `burst`.

    Requests that find no token wait in two lines, submits and polls, each first come first
    served; when both lines wait, tokens alternate between them. With one line, a burst of
    500 submits (50 s at 10 a second) held every poll behind it, so a finished video waited
    for all of them; now a poll waits for at most one submit per poll ahead of it, and
    submits still get half the pace while polls wait. The total pace is unchanged."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1, int(rate)))
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lines: dict[Kind, deque[asyncio.Future[None]]] = {"poll": deque(), "submit": deque()}
        self._turn: Kind = "poll"
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, kind: Kind = "poll") -> None:
        if self.rate <= 0:  # 0 means unlimited
            return
        self._refill()
        if self._tokens >= 1 and not self._waiting():
            self._tokens -= 1
            return
        granted = asyncio.get_running_loop().create_future()
        self._lines[kind].append(granted)
        self._wake_later()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                # Granted as it was cancelled: the token goes to the next in line.
                self._tokens = min(self.burst, self._tokens + 1)
                if self._timer is not None:
                    self._timer.cancel()
                self._grant()
            raise

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _waiting(self) -> bool:
        for line in self._lines.values():
            while line and line[0].done():  # cancelled waiters leave their place
                line.popleft()
        return any(self._lines.values())

    def _next(self) -> asyncio.Future[None] | None:
        other: Kind = "submit" if self._turn == "poll" else "poll"
        for kind in (self._turn, other):
            line = self._lines[kind]
            while line:
                waiter = line.popleft()
                if not waiter.done():
                    self._turn = "submit" if kind == "poll" else "poll"
                    return waiter
        return None

    def _grant(self) -> None:
        self._timer = None
        self._refill()
        while self._tokens >= 1 and (waiter := self._next()) is not None:
            self._tokens -= 1
            waiter.set_result(None)
        self._wake_later()

    def _wake_later(self) -> None:
        if self._timer is None and self._waiting():
            delay = max(0.0, (1 - self._tokens) / self.rate)
            self._timer = asyncio.get_running_loop().call_later(delay, self._grant)
