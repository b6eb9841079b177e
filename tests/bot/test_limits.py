"""The process-wide request pace and the secret scrubber of log records."""
from __future__ import annotations

import asyncio
import logging
import time

from bot.logs import RedactSecrets
from bot.ratelimit import RateLimiter


async def test_requests_are_paced_process_wide():
    limiter = RateLimiter(rate=50, burst=1)
    started = time.monotonic()
    for _ in range(11):
        await limiter.acquire()
    assert time.monotonic() - started >= 0.19  # 10 gaps of 1/50 s after the first


async def test_a_poll_does_not_wait_behind_a_burst_of_submits():
    """A finished video's poll is served within a token or two of asking, not after every
    submit queued before it; submits keep half the pace meanwhile, and nothing is lost."""
    limiter = RateLimiter(rate=100, burst=1)
    served: list[str] = []

    async def ask(kind, name: str) -> None:
        await limiter.acquire(kind)
        served.append(name)

    submits = [asyncio.create_task(ask("submit", f"s{n}")) for n in range(20)]
    await asyncio.sleep(0.035)  # a few submits go out, the rest wait in line
    polls = [asyncio.create_task(ask("poll", f"p{n}")) for n in range(3)]
    await asyncio.gather(*submits, *polls)
    first_poll = served.index("p0")
    assert served[first_poll:first_poll + 6] == ["p0", served[first_poll + 1], "p1",
                                                 served[first_poll + 3], "p2",
                                                 served[first_poll + 5]]
    assert all(name.startswith("s") for name in served[first_poll + 1:first_poll + 6:2])
    assert first_poll <= 6  # not behind the 15-odd submits still waiting
    assert sorted(served) == sorted([f"s{n}" for n in range(20)] + ["p0", "p1", "p2"])
    assert [n for n in served if n.startswith("s")] == [f"s{n}" for n in range(20)]  # in order


async def test_a_cancelled_waiter_gives_up_its_place_and_the_pace_goes_on():
    limiter = RateLimiter(rate=50, burst=1)
    await limiter.acquire("submit")  # the one token
    gone = asyncio.create_task(limiter.acquire("poll"))
    after = asyncio.create_task(limiter.acquire("poll"))
    await asyncio.sleep(0)
    gone.cancel()
    started = time.monotonic()
    await asyncio.wait_for(after, timeout=1)
    assert time.monotonic() - started < 0.5
    assert gone.cancelled()


async def test_zero_rate_means_no_pacing():
    limiter = RateLimiter(rate=0)
    for _ in range(1000):
        await limiter.acquire()
    # Pacing spends a token per call and sleeps when none is left; unpaced, none is spent.
    assert limiter._tokens == limiter.burst


def test_secrets_are_scrubbed_from_any_log_record():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "header was %s",
                               ("Bearer sk-live-123456",), None)
    RedactSecrets(["sk-live-123456", ""]).filter(record)
    assert record.getMessage() == "header was Bearer ***"
