"""Fixtures: a fake Discord on 127.0.0.1 and the real bot started the way `sora-bot run` does."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.discord import serve
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.fakes.discord import FakeDiscord


@contextlib.asynccontextmanager
async def running(settings: Settings, fake: FakeDiscord) -> AsyncIterator[Runtime]:
    """Open a runtime and run `serve` on it, as `sora-bot run` does; stop it on exit."""
    async with open_runtime(settings) as rt:
        fake.expect_new_client()
        task = asyncio.create_task(serve(rt, guild_ready_timeout=0.05))
        try:
            connected = asyncio.ensure_future(fake.connected())
            await asyncio.wait([connected, task], return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                connected.cancel()
                task.result()
            await asyncio.sleep(0.1)  # past guild_ready_timeout: on_ready has run
            yield rt
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
def bot(discord_settings: Settings, fake: FakeDiscord) -> Callable[..., Any]:
    """`async with bot(**setting_changes) as rt:` runs the bot against the fake."""
    def start(**changes: Any) -> contextlib.AbstractAsyncContextManager[Runtime]:
        return running(discord_settings.with_(**changes), fake)
    return start
