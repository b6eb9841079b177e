"""How the engine reports to a front end without waiting on it: progress edits are sent in
the background, the newest state replacing any not yet sent, so a slow chat API never holds
up polling or downloads; the final calls wait for the edit in flight, keeping the order."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.errors import SoraError
from bot.events import JobEvents
from bot.models import Job, Progress

log = logging.getLogger(__name__)


class Reporter:
    """One per job. Holds back percent-only updates to one per `interval`; stores (through
    the async `remember`) the status message reference an event returns; keeps a slow or broken front
    end from stopping the job."""

    def __init__(self, events: JobEvents, interval: float,
                 remember: Callable[[Job, str], Awaitable[None]]) -> None:
        self.events = events
        self.interval = interval
        self.remember = remember
        self.last_stage: str | None = None
        self.last_sent = 0.0
        self._latest: Progress | None = None
        self._sender: asyncio.Task[None] | None = None

    async def _keep(self, job: Job, ref: str | None) -> None:
        if ref:
            await self.remember(job, ref)

    async def accepted(self, job: Job) -> None:
        await self._keep(job, await self.events.accepted(job))

    async def progress(self, job: Job, progress: Progress) -> None:
        """Returns at once; the edit goes out in the background."""
        now = time.monotonic()
        if progress.stage == self.last_stage and now - self.last_sent < self.interval:
            return
        self.last_stage, self.last_sent = progress.stage, now
        self._latest = progress  # replaces one not yet sent: only the newest state matters
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(job), name=f"{job.id}-progress")

    async def _send(self, job: Job) -> None:
        while self._latest is not None:
            progress, self._latest = self._latest, None
            try:
                await self._keep(job, await self.events.progress(job, progress))
            except Exception:
                log.exception("Progress update for job %s failed", job.id)

    async def _settle(self) -> None:
        """Drop what is not yet sent and let the edit in flight finish, so the last word
        (done, failed) is never overwritten by a late progress line."""
        self._latest = None
        if self._sender is not None:
            # return_exceptions: a sender cancelled with its job is not our error; our own
            # cancellation still propagates.
            await asyncio.gather(self._sender, return_exceptions=True)

    async def completed(self, job: Job, video: Path) -> None:
        await self._settle()
        await self._keep(job, await self.events.completed(job, video))

    async def failed(self, job: Job, error: SoraError) -> None:
        await self._settle()
        await self._keep(job, await self.events.failed(job, error))

    def cancel(self) -> None:
        """The job's task is stopping: do not leave an edit running behind it."""
        if self._sender is not None:
            self._sender.cancel()
