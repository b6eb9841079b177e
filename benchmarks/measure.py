"""What every benchmark child measures about itself: CPU, RSS, event-loop stalls, latencies."""
from __future__ import annotations

import asyncio
import math
import os
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_times(who: int = resource.RUSAGE_SELF) -> tuple[float, float]:
    r = resource.getrusage(who)
    return r.ru_utime, r.ru_stime


def cpu_spent() -> Callable[[], float]:
    """A stopwatch of this process's CPU (user + system): call the result for the seconds
    spent since."""
    user0, sys0 = cpu_times()

    def since() -> float:
        user1, sys1 = cpu_times()
        return user1 - user0 + sys1 - sys0
    return since


async def least_cpu(action: Callable[[], Awaitable[Any]], tries: int) -> tuple[float, float]:
    """The least CPU `action` cost in `tries` tries, and what all of them cost together. The
    least, because a blip of other work in this process (a page reclaim, a collection) only
    ever adds: a probe's cost is left out at its cheapest, never flattering the run."""
    costs = []
    for _ in range(tries):
        spent = cpu_spent()
        await action()
        costs.append(spent())
    return min(costs), sum(costs)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0  # the process ended between listing and reading


class LoopStalls:
    """How late `asyncio.sleep(0.01)` wakes up, sampled all through a run: anything that
    holds the event loop (a commit with fsync, a big read, a JSON parse) shows up here as
    the delay every other coroutine (an interaction's first answer) would also suffer."""

    PERIOD = 0.01
    BIG = 0.1  # stalls longer than this are also kept with when they happened

    def __init__(self) -> None:
        self.late: list[float] = []
        self.big: list[tuple[float, float]] = []  # (seconds since the origin, stall)
        self.origin = time.perf_counter()
        self._task: asyncio.Task[None] | None = None

    def mark(self) -> None:
        """Start counting again from now: ours opens its store and runtime first, a one-off
        start-up cost that no interaction meets, so its window starts at the first submit."""
        self.late.clear()
        self.big.clear()
        self.origin = time.perf_counter()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(self.PERIOD)
            late = max(0.0, time.perf_counter() - began - self.PERIOD)
            self.late.append(late)
            if late > self.BIG:
                self.big.append((began - self.origin, late))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def p99_ms(self) -> float:
        return 1000 * percentile(self.late, 99)

    def max_ms(self) -> float:
        return 1000 * max(self.late, default=math.nan)


class Ticker:
    """Calls `action` every `period` seconds from its own task, on a fixed schedule, and
    records how long after its scheduled moment each call finished: the loop's lateness
    plus the call itself, which is what a user waiting for an answer experiences."""

    def __init__(self, action: Callable[[], Awaitable[Any]], period: float = 0.1) -> None:
        self.action = action
        self.period = period
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        due = time.perf_counter()
        while True:
            due += self.period
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                await self.action()
            except Exception as exc:  # noqa: BLE001  (a figure, not a crash: count and show it)
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            self.latencies.append(time.perf_counter() - due)
            # Do not try to catch up after a long stall: one late answer, not a burst of them.
            due = max(due, time.perf_counter() - self.period)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def p99_ms(self) -> float:
        return 1000 * percentile(self.latencies, 99)


class RssSampler:
    """Peak RSS of this process plus its children (ffmpeg), sampled every `period` seconds.
    `ru_maxrss` alone is lifelong and per process; this is the sum at one moment."""

    def __init__(self, period: float = 0.02) -> None:
        self.period = period
        self.peak_mb = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def sample(self) -> float:
        total = current_rss_mb()
        for pid in child_pids(os.getpid()):
            total += current_rss_mb(pid)
        self.peak_mb = max(self.peak_mb, total)
        return total

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.period)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.sample()


def child_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []
