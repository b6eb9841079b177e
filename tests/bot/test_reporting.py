"""A slow chat API does not hold up a job: progress edits go out in the background, newest
state first, and the final word waits for the edit in flight."""
from __future__ import annotations

import asyncio
from pathlib import Path

from bot.models import Job, Progress, Requester, VideoRequest
from tests.fakes.recorder import RecordingEvents

ANN = Requester("cli", "team1", "ann")


class SlowEdits(RecordingEvents):
    """Each progress edit takes 0.4 s, as a slow chat API would; notes how many polls the
    video service saw while an edit was in flight."""

    def __init__(self, stand_in) -> None:
        super().__init__()
        self.stand_in = stand_in
        self.polls_during_edits: list[int] = []
        self.in_flight = 0

    def _polls(self) -> int:
        return sum(1 for r in self.stand_in.state.requests if r.method == "GET")

    async def progress(self, job: Job, progress: Progress) -> None:
        self.in_flight += 1
        assert self.in_flight == 1  # one edit at a time, never two racing
        before = self._polls()
        await asyncio.sleep(0.4)
        self.polls_during_edits.append(self._polls() - before)
        await super().progress(job, progress)
        self.in_flight -= 1

    async def completed(self, job: Job, video: Path) -> None:
        assert self.in_flight == 0  # the last word comes after the edit in flight
        await super().completed(job, video)


async def test_polling_goes_on_while_an_edit_is_slow(runtime, stand_in) -> None:
    stand_in.state.job_seconds = 1.0
    events = SlowEdits(stand_in)
    accepted = await runtime.engine.submit(VideoRequest("a slow chat"), ANN, events)
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "delivered"
    assert max(events.polls_during_edits) >= 2  # polls did not wait for the edit
    stages = events.stages()
    # Coalesced: fewer edits than polls, and the newest state, in order, then the video.
    assert len(stages) < sum(1 for r in stand_in.state.requests if r.method == "GET")
    assert [kind for kind, _ in events.seen][-1] == "completed"
