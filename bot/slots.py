"""Concurrency limits: so many jobs at once in all, so many per user; the rest wait in line."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
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
        #: Per member, the tickets of their jobs not yet running, in the order they started.
        self._line: dict[str, list[int]] = {}
        self._tickets = itertools.count()

    @property
    def busy(self) -> int:
        """Jobs holding a slot now (for the metrics)."""
        return self._count

    def join(self, key: str) -> int:
        """A place in the member's line, taken when the job starts (no await before it): jobs
        then run in the order they started, even when the store writes each job makes on its
        way to hold() finish out of order (they may run on different connections)."""
        ticket = next(self._tickets)
        self._line.setdefault(key, []).append(ticket)
        return ticket

    async def leave(self, key: str, ticket: int) -> None:
        """The job ended or got its slot: the next in the member's line may go."""
        async with self._cond:
            self._drop(key, ticket)
            self._cond.notify_all()

    def _drop(self, key: str, ticket: int) -> None:
        line = self._line.get(key, [])
        if ticket in line:
            line.remove(ticket)
        if not line:
            self._line.pop(key, None)

    def must_wait(self, key: str, ticket: int | None = None) -> bool:
        line = self._line.get(key)
        return (self._count >= self.total or self._running[key] >= self.per_user
                or (ticket is not None and bool(line) and line[0] != ticket))

    @contextlib.asynccontextmanager
    async def hold(self, key: str, ticket: int | None = None) -> AsyncIterator[None]:
        async with self._cond:
            self.waiting += 1
            try:
                await self._cond.wait_for(lambda: not self.must_wait(key, ticket))
            finally:
                self.waiting -= 1
            if ticket is not None:
                self._drop(key, ticket)
                self._cond.notify_all()  # the next ticket heads the line now
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
