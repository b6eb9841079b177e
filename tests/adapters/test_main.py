"""`sora-bot run` with both chat tokens: the adapters start together and stop together."""
from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest

from adapters.main import run
from bot.errors import ConfigError
from bot.settings import Settings
from tests.adapters.conftest import DISCORD_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack


@pytest.fixture
def both(discord_settings: Settings, slack_settings: Settings) -> Settings:
    return slack_settings.with_(discord_token=DISCORD_TOKEN,
                                discord_api_base=discord_settings.discord_api_base,
                                discord_gateway_url=discord_settings.discord_gateway_url)


async def test_run_serves_discord_and_slack_at_once(both, fake: FakeDiscord, fake_slack: FakeSlack):
    task = asyncio.create_task(run(both))
    try:
        await fake.connected()
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(f"http://127.0.0.1:{both.port}/healthz") as resp:
                        if resp.status == 200:
                            break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the Slack HTTP server did not come up")
        assert fake_slack.calls_to("auth.test")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_one_adapter_failing_to_start_stops_the_other(both, fake: FakeDiscord):
    refused = both.with_(slack_bot_token="xoxb-revoked")
    with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN"):
        await asyncio.wait_for(run(refused), 10)
    await asyncio.sleep(0.5)  # a Discord client left running would have connected by now
    assert fake._ws is None
