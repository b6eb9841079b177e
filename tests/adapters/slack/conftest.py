"""Fixtures for the Slack adapter tests: the fake Slack Web API, test images, and the adapter
running in HTTP mode against the fake and the APIMaster stand-in."""
from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack import SlackService
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.adapters.conftest import SECRET
from tests.fakes.slack import TEAM_ID, FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


# ---- the adapter running against the fakes ---------------------------------------------

CHANNEL = "C0GENERAL"


@dataclass
class Bot:
    """The Slack adapter running in HTTP mode, and ways to talk to it like Slack does."""

    service: SlackService
    fake: FakeSlack
    http: aiohttp.ClientSession

    @property
    def rt(self) -> Runtime:
        return self.service.runtime

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.service.port}"

    async def post_signed(self, body: str, content_type: str, *, secret: str = SECRET,
                          timestamp: int | None = None) -> aiohttp.ClientResponse:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        async with self.http.post(f"{self.url}/slack/events", data=body.encode(), headers={
            "content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": signature,
        }) as resp:
            await resp.read()
            return resp

    async def command(self, text: str, user: str = "UANN", **kw: Any) -> aiohttp.ClientResponse:
        return await self.post_signed(urlencode(command_payload(self.fake, text, user)),
                                      "application/x-www-form-urlencoded", **kw)

    async def replay(self, body: dict[str, str]) -> aiohttp.ClientResponse:
        """The very same signed request again (within Slack's five minutes)."""
        return await self.post_signed(urlencode(body), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str = "Ev0001") -> aiohttp.ClientResponse:
        return await self.post_signed(json.dumps(event_payload(event, event_id)), "application/json")

    async def interaction(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.post_signed(urlencode({"payload": json.dumps(payload)}),
                                      "application/x-www-form-urlencoded")

    async def replies(self, count: int = 1, timeout: float = 10.0) -> list[str]:
        """Texts sent to response_url (what the user sees ephemerally)."""
        await self.fake.wait_for(lambda: len(self.fake.responses) >= count, timeout)
        return [r.get("text", "") for r in self.fake.responses]


_triggers = itertools.count(1)


def command_payload(fake: FakeSlack, text: str, user: str = "UANN") -> dict[str, str]:
    """A slash command as Slack sends it; each invocation has its own trigger_id."""
    return {
        "token": "legacy", "team_id": TEAM_ID, "team_domain": "fake", "channel_id": CHANNEL,
        "channel_name": "general", "user_id": user, "user_name": fake.users[user]["name"],
        "command": "/sora", "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": fake.response_url(), "trigger_id": f"1337.{next(_triggers)}.abcd",
    }


def event_payload(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A1", "type": "event_callback",
            "event": event, "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}]}


def reaction(user: str, channel: str, ts: str, emoji: str = "clapper") -> dict[str, Any]:
    return {"type": "reaction_added", "user": user, "reaction": emoji, "item_user": "UANN",
            "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": f"{time.time():.6f}"}


@contextlib.asynccontextmanager
async def running(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    """The Slack adapter in HTTP mode, started as `sora-bot run` starts it."""
    async with open_runtime(settings) as rt, aiohttp.ClientSession() as http:
        service = SlackService(rt, host="127.0.0.1")
        await service.start()
        try:
            yield Bot(service, fake_slack, http)
        finally:
            await service.stop()


@pytest.fixture
async def bot(slack_settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    async with running(slack_settings, fake_slack) as bot:
        yield bot

