"""A JobEvents that records what a user would have been told."""
from __future__ import annotations

from pathlib import Path

from bot.errors import SoraError
from bot.models import Job, Progress


class RecordingEvents:
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []
        self.videos: list[bytes] = []

    async def accepted(self, job: Job) -> None:
        self.seen.append(("accepted", job.id))

    async def progress(self, job: Job, progress: Progress) -> None:
        self.seen.append(("progress", progress))

    async def completed(self, job: Job, video: Path) -> None:
        self.videos.append(video.read_bytes())
        self.seen.append(("completed", video))

    async def failed(self, job: Job, error: SoraError) -> None:
        self.seen.append(("failed", error.user_message))

    def stages(self) -> list[str]:
        return [p.stage for kind, p in self.seen if kind == "progress"]  # type: ignore[union-attr]

    def failure(self) -> str | None:
        return next((str(v) for kind, v in self.seen if kind == "failed"), None)
