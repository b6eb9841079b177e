"""Fixtures both chat adapters' tests use (and tests/adapters/test_main.py, which runs both):
the fake Discord and fake Slack on 127.0.0.1, and settings pointing the bot at them."""
from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import discord
import pytest

from bot import catalogue
from bot.settings import Settings
from tests.fakes.catalogues import KLING
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import BOT_TOKEN, FakeSlack

DISCORD_TOKEN = "discord-bot-token-SECRET-4b1d"
SECRET = "test-signing-secret-4f2a"  # Slack signing secret


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


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    fake.add_user("UANN", "ann")
    fake.add_user("UBOSS", "boss", admin=True)
    try:
        yield fake
    finally:
        await fake.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def slack_settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    port = free_port()
    return settings.with_(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=fake_slack.url,
        port=port, public_base_url=f"http://127.0.0.1:{port}", public_link_ttl=60.0,
    )




@pytest.fixture
def with_kling(tmp_path: Path) -> Callable[[Settings], Settings]:
    """Settings whose catalogue has one more model than the built-in ones, from a file."""
    path = tmp_path / "models.toml"
    path.write_text(KLING)

    def add(settings: Settings) -> Settings:
        return settings.with_(catalogue=catalogue.load(path, {}))
    return add
