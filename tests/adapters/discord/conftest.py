"""Fixtures: a fake Discord on 127.0.0.1 and the real bot started the way `sora-bot run` does."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest

from adapters.discord import serve
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.fakes.discord import FakeDiscord

DISCORD_TOKEN = "discord-bot-token-SECRET-4b1d"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.close()


@pytest.fixture
def discord_settings(settings: Settings, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # serve() points discord.py at the fake process-wide; put the real endpoints back after.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    return settings.with_(discord_token=DISCORD_TOKEN, discord_api_base=fake.api_base,
                          discord_gateway_url=fake.gateway_url)


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
