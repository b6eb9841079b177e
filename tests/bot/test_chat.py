"""The chat-job layer: pre-checks, one job per member and source by the store's key, and a
status message that survives being deleted."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import texts
from bot.chat import CannotPost
from bot.errors import AlreadyStarted, InvalidRequest, QuotaExceeded
from bot.models import Job, Requester, VideoRequest
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from bot.status import REF, MessageGone, StatusMessage
from tests.fakes.recorder import RecordingEvents

ANN = Requester("discord", "guild", "ann")


async def test_one_job_per_member_and_source_past_fifty_newer_jobs(settings: Settings) -> None:
    async with open_runtime(settings.with_(user_daily_usd=None)) as runtime:
        await _one_per_source(runtime)


async def _one_per_source(runtime: Runtime) -> None:
    chat = runtime.chat
    first = await chat.start(VideoRequest("the source"), ANN, RecordingEvents(), {}, source="c/1")
    for n in range(55):  # more than any "last 50 jobs" scan would look at
        await chat.start(VideoRequest(f"newer {n}"), ANN, RecordingEvents(), {})
    with pytest.raises(AlreadyStarted):
        await chat.start(VideoRequest("again"), ANN, RecordingEvents(), {}, source="c/1")
    assert (await chat.already_started(ANN, "c/1"))
    # Another member, or another message, is a new job.
    await chat.start(VideoRequest("bob's"), Requester("discord", "guild", "bob"), RecordingEvents(),
                     {}, source="c/1")
    await chat.start(VideoRequest("other"), ANN, RecordingEvents(), {}, source="c/2")
    assert (await runtime.store.ledger_state(first.job.id)) == "reserved"
    assert len((await runtime.engine.jobs(limit=100))) == 58  # the refused one stored nothing


async def test_a_failed_job_frees_its_source(runtime: Runtime, stand_in) -> None:
    stand_in.state.fail("submit", "400")
    first = await runtime.chat.start(VideoRequest("x"), ANN, RecordingEvents(), {}, source="c/9")
    assert (await runtime.engine.wait(first.job.id)).status == "failed"
    again = await runtime.chat.start(VideoRequest("x"), ANN, RecordingEvents(), {}, source="c/9")
    assert (await runtime.engine.wait(again.job.id)).status == "delivered"


async def test_checks_name_what_is_wrong_and_store_nothing(runtime: Runtime) -> None:
    chat = runtime.chat
    with pytest.raises(InvalidRequest, match="needs sora-2-pro"):
        await chat.check(VideoRequest("x", resolution="1080p"), ANN)
    with pytest.raises(QuotaExceeded, match="costs \\$6.72 but your daily budget has \\$5.00 left"):
        await chat.check(VideoRequest("x", model="sora-2-pro", duration=12, resolution="1080p"), ANN)
    with pytest.raises(CannotPost, match="need the Attach Files permission"):
        await chat.check(VideoRequest("x"), ANN, missing="Attach Files")
    assert (await runtime.engine.jobs()) == []


class MemoryStatus(StatusMessage):
    """A chat platform in memory: messages by reference; `deleted` ones answer MessageGone."""

    markup = texts.PLAIN

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.uploads: list[str] = []

    async def post(self, job: Job, text: str) -> str:
        ref = f"m{len(self.messages) + 1}"
        self.messages[ref] = text
        return ref

    async def edit(self, job: Job, ref: str, text: str) -> None:
        if ref in self.deleted:
            raise MessageGone()
        self.messages[ref] = text

    async def upload(self, job: Job, video: Path, caption: str) -> str | None:
        self.uploads.append(caption)
        return "https://chat.example/video"


async def test_a_deleted_status_message_is_posted_again_and_remembered(runtime: Runtime) -> None:
    status = MemoryStatus()
    started = await runtime.chat.start(VideoRequest("a heron"), ANN, status, {})
    job_id = started.job.id
    while not status.messages:
        await asyncio.sleep(0.01)
    status.deleted.add("m1")  # someone deletes the status message mid-job
    job = await runtime.engine.wait(job_id)
    assert job.status == "delivered"
    assert job.origin[REF] == "m2"  # the new message is stored for a restart to edit
    assert status.messages["m2"].splitlines()[-1] == "✅ Done: https://chat.example/video"
    assert status.messages["m2"].startswith("🎬 Video for ann · sora-2 · 4 s")
    assert status.uploads and "ann your video is ready" in status.uploads[0]
