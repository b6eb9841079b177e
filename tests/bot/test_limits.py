"""The process-wide request pace and the secret scrubber of log records."""
from __future__ import annotations

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
