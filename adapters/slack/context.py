"""What every Slack listener shares: the runtime, the Web API client and image links."""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from adapters.web.media import MediaLinks
from bot.chat import ChatJobs
from bot.runtime import Runtime
from bot.settings import Settings

MAX_UPLOADS = 4


@dataclass
class SlackContext:
    runtime: Runtime
    client: AsyncWebClient
    links: MediaLinks
    #: Uploads at once: each holds a socket and a file; more only share the bandwidth.
    uploads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_UPLOADS))
    _seen: deque[str] = field(default_factory=lambda: deque(maxlen=500))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def chat(self) -> ChatJobs:
        return self.runtime.chat

    def first_time(self, key: str) -> bool:
        """False for an event Slack delivers again (retries after a slow ack)."""
        if key in self._seen:
            return False
        self._seen.append(key)
        return True
