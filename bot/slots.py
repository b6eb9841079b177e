"""Concurrency limits: so many jobs at once in all, so many per user; the rest wait in line."""
from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator


class Slots:
    def __init__(self, total: int, per_user: int) -> None:
        self.total = max(1, total)
        self.per_user = max(1, per_user)
        self._running: Counter[str] = Counter()
        self._cond = asyncio.Condition()
        self._count = 0
        self.waiting = 0

    @property
    def busy(self) -> int:
        """Jobs holding a slot now (for the metrics)."""
        return self._count

    def must_wait(self, key: str) -> bool:
        return self._count >= self.total or self._running[key] >= self.per_user

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._cond:
            self.waiting += 1
            try:
                await self._cond.wait_for(lambda: not self.must_wait(key))
            finally:
                self.waiting -= 1
            self._running[key] += 1
            self._count += 1
        try:
            yield
        finally:
            # Shielded so a cancelled job still frees its place for the others.
            await asyncio.shield(self._release(key))

    async def _release(self, key: str) -> None:
        async with self._cond:
            self._running[key] -= 1
            self._count -= 1
            if self._running[key] <= 0:
                del self._running[key]
            self._cond.notify_all()
