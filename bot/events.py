"""The one small interface through which the engine talks to whoever asked for a job."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.errors import SoraError
from bot.models import Job, Progress


class JobEvents(Protocol):
    """Implemented by each adapter. The engine awaits each call in order, one job at a time."""

    async def accepted(self, job: Job) -> None:
        """Once, before anything is sent upstream: post a status message, then record where
        it is with `JobEngine.set_origin` so a restarted process can find it."""

    async def progress(self, job: Job, progress: Progress) -> None:
        """A stage change, or a new percent (throttled to SORA_PROGRESS_INTERVAL)."""

    async def completed(self, job: Job, video: Path) -> None:
        """Deliver the MP4. Called at most once per job, even across restarts."""

    async def failed(self, job: Job, error: SoraError) -> None:
        """The job ended without a video; nothing is charged. Show `error.user_message`."""
