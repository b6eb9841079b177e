"""The engine against a hostile provider: transfers are bounded, a video that was made but
not fetched keeps its cost held (and is fetched again later), odd answers are ridden out,
and server hints cannot make it sleep for an hour or poll a thousand times."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.models import Requester, VideoRequest
from bot.runtime import open_runtime
from bot.settings import Settings
from tests.fakes.recorder import RecordingEvents

ANN = Requester("cli", "team1", "ann")


def _leftovers(media: Path) -> list[str]:
    return sorted(p.name for p in media.rglob("*")) if media.exists() else []


@pytest.mark.parametrize("kind, why", [
    ("trickle", "timed out"),          # a few bytes a second: ends at the deadline
    ("endless", "larger than the 3 mb"),  # no end, no length: stops at the cap
    ("not-video", "not a video"),      # a 200 that is something else
])
async def test_a_made_video_that_cannot_be_fetched_keeps_its_cost_held(settings: Settings, stand_in,
                                                                        kind: str, why: str) -> None:
    settings = settings.with_(job_timeout=1.0, http_timeout=0.5, max_video_bytes=3_000_000)
    stand_in.state.fail("download", kind, times=50)  # the link and the /content path alike
    events = RecordingEvents()
    started = time.monotonic()
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("a fox"), ANN, events)
        job = await rt.engine.wait(accepted.job.id)
        assert job.status == "unfetched" and await rt.store.ledger_state(job.id) == "reserved"
    assert time.monotonic() - started < 8
    assert events.videos == []  # nothing delivered
    assert "$0.32 is held" in events.failure() and why in events.failure().lower()
    assert _leftovers(settings.media_dir) == []  # no partial file left on disk


async def test_an_unfetched_video_is_fetched_again_on_resume(settings: Settings, stand_in, tmp_path) -> None:
    blocked = tmp_path / "videos"
    blocked.write_text("a file where the media folder should be")  # the disk says no
    events = RecordingEvents()
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("a fox"), ANN, events)
        job = await rt.engine.wait(accepted.job.id)
    assert job.status == "unfetched" and "media folder could not be written" in events.failure()
    blocked.unlink()
    resumed = RecordingEvents()
    async with open_runtime(settings) as rt:
        rt.engine.register("cli", lambda job: resumed)
        await rt.engine.resume()
        job = await rt.engine.wait(job.id)
        assert job.status == "delivered" and await rt.store.ledger_state(job.id) == "spent"
    assert len(stand_in.state.submits()) == 1 and len(resumed.videos) == 1


@pytest.mark.parametrize("kind", ["bad-utf8", "nan-progress", "numeric-url", "huge-answer"])
async def test_odd_poll_answers_are_ridden_out(runtime, stand_in, kind: str) -> None:
    stand_in.state.job_seconds = 0.5
    stand_in.state.fail("poll", kind, times=3)
    accepted = await runtime.engine.submit(VideoRequest("a fox"), ANN, RecordingEvents())
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "delivered" and await runtime.store.ledger_state(job.id) == "spent"


async def test_a_one_millisecond_poll_hint_is_not_obeyed(settings: Settings, stand_in) -> None:
    stand_in.state.job_seconds = 1.0
    stand_in.state.poll_after_ms = 1
    async with open_runtime(settings.with_(poll_interval=0.2)) as rt:
        accepted = await rt.engine.submit(VideoRequest("a fox"), ANN, RecordingEvents())
        assert (await rt.engine.wait(accepted.job.id)).status == "delivered"
    polls = [r for r in stand_in.state.requests if r.method == "GET" and "/videos/task_" in r.path
             and not r.path.endswith("/content")]
    assert len(polls) <= 1.0 / (0.2 / 4) + 3  # at most one poll per quarter interval


async def test_retry_after_of_an_hour_is_clamped(settings: Settings, stand_in) -> None:
    stand_in.state.retry_after = 3600
    stand_in.state.fail("poll", "429", times=1)
    started = time.monotonic()
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("a fox"), ANN, RecordingEvents())
        assert (await rt.engine.wait(accepted.job.id)).status == "delivered"
    assert time.monotonic() - started < settings.hint_ceiling + 3


async def test_an_admin_may_free_the_cost_of_a_video_never_fetched(settings: Settings, stand_in, tmp_path) -> None:
    (tmp_path / "videos").write_text("a file where the media folder should be")
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("a fox"), ANN, RecordingEvents())
        assert (await rt.engine.wait(accepted.job.id)).status == "unfetched"
        released = await rt.engine.settle_unknown(accepted.job.id, charge=False)
        assert (released.status, released.error) == ("failed", "Released by an admin: the held cost is freed.")
        assert await rt.store.ledger_state(accepted.job.id) == "released"
