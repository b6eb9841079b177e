"""What every Slack listener shares: the runtime, the Web API client, image links and
the background tasks that must stay referenced until they finish."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.media import MediaLinks
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SlackContext:
    runtime: Runtime
    client: AsyncWebClient
    links: MediaLinks
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _seen: deque[str] = field(default_factory=lambda: deque(maxlen=500))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run work after ack() without losing the task to the garbage collector."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack task %s failed", task.get_name(), exc_info=task.exception())

    def first_time(self, key: str) -> bool:
        """False for an event Slack delivers again (retries after a slow ack)."""
        if key in self._seen:
            return False
        self._seen.append(key)
        return True

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
