"""The HTTP server Slack reaches: a connection limit, header and body timeouts, signatures
checked before any parsing, and one log line (no traceback) per rejected request."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from adapters.slack import SlackService
from adapters.web.guard import ServerLimits
from bot.runtime import open_runtime
from bot.settings import Settings
from tests.adapters.slack.conftest import Bot


@contextlib.asynccontextmanager
async def serving(settings: Settings, limits: ServerLimits) -> AsyncIterator[int]:
    async with open_runtime(settings) as rt:
        service = SlackService(rt, host="127.0.0.1", limits=limits)
        await service.start()
        try:
            assert service.port is not None
            yield service.port
        finally:
            await service.stop()


async def test_half_open_connections_are_limited_and_timed_out(slack_settings: Settings) -> None:
    limits = ServerLimits(max_connections=4, header_seconds=0.5, body_seconds=0.5)
    async with serving(slack_settings, limits) as port:
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(10)]
        for _, writer in conns:
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")  # headers never end
        await asyncio.sleep(0.1)
        refused = [r for r, _ in conns if r.at_eof() or await _eof_soon(r, 0.05)]
        assert len(refused) == 6  # over the limit: closed at once
        started = time.monotonic()
        for reader, _ in conns:
            assert await _eof_soon(reader, 3.0)  # the rest: closed when the headers are late
        assert time.monotonic() - started < 2.0
        for _, writer in conns:
            writer.close()
        # The server is still there for a well-behaved client.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 200")
        writer.close()


async def test_a_body_that_trickles_is_cut_off(slack_settings: Settings) -> None:
    limits = ServerLimits(header_seconds=5, body_seconds=0.3)
    async with serving(slack_settings, limits) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: application/json\r\n\r\n{\"a\":")
        answer = await asyncio.wait_for(reader.readline(), 3)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")


async def _eof_soon(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1024), within) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


@pytest.mark.parametrize("body, headers, status", [
    (b"garbage", {}, 401),
    (b"payload=%7Bnot-json", {"content-type": "application/x-www-form-urlencoded"}, 401),
    (b'{"type": "event_callback"', {"content-type": "application/json",
                                     "x-slack-request-timestamp": "abc", "x-slack-signature": "v0=zz"}, 401),
])
async def test_rejected_requests_are_one_line_each(bot: Bot, caplog: pytest.LogCaptureFixture,
                                                   body: bytes, headers: dict, status: int) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    async with bot.http.post(f"{bot.url}/slack/events", data=body, headers=headers) as resp:
        assert resp.status == status
    lines = [r for r in caplog.records if r.name.startswith(("adapters", "aiohttp", "slack"))]
    assert len(lines) == 1 and "Rejected" in lines[0].getMessage()
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


async def test_a_signed_but_unreadable_body_is_one_line(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    resp = await bot.post_signed('{"type": "event_callback"', "application/json")
    assert resp.status == 400
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "A signed Slack request could not be read (JSONDecodeError)"]
