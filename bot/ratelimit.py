"""A process-wide pace for requests to APIMaster, so hundreds of jobs do not cause 429 storms."""
from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Token bucket: at most `rate` requests a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1, int(rate)))
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if self.rate <= 0:  # 0 means unlimited
            return
        # The lock keeps waiters in arrival order, so no request starves.
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._tokens = 1.0
                self._stamp = time.monotonic()
            self._tokens -= 1
