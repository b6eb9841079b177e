"""The one small interface through which the engine talks to whoever asked for a job."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.errors import SoraError
from bot.models import Job, Progress


class JobEvents(Protocol):
    """Implemented by each front end (chat ones through `bot.status.StatusMessage`). The
    engine awaits each call in order, one job at a time. A call returns the reference of a
    status message it posted (the engine stores it in `job.origin`, so a restarted process
    edits the same message), or None."""

    async def accepted(self, job: Job) -> str | None:
        """Once, before anything is sent upstream (again on resume): post a status message."""

    async def progress(self, job: Job, progress: Progress) -> str | None:
        """A stage change, or a new percent (throttled to SORA_PROGRESS_INTERVAL)."""

    async def completed(self, job: Job, video: Path) -> str | None:
        """Deliver the MP4. Called at most once per job, even across restarts."""

    async def failed(self, job: Job, error: SoraError) -> str | None:
        """The job ended without a video; nothing is charged. Show `error.user_message`."""
