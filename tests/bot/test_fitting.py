"""Fitting a finished video under an upload limit, against the stand-in over real HTTP: the
provider's smaller rendition when the catalogue names one, else a re-encode in the
transcoder's turn; every copy deleted after its post."""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.stand_in import padded_sample
from bot import catalogue, texts
from bot.fitting import CannotFit, Notify
from bot.models import Job, Requester, VideoRequest
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.fakes.catalogues import SMALLER_RENDITION

LIMIT = 25_000


@pytest.fixture
def with_rendition(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "models.toml"
    path.write_text(SMALLER_RENDITION)
    return settings.with_(catalogue=catalogue.load(path, {}), max_transcodes=1)


@pytest.fixture
async def rt(with_rendition: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(with_rendition) as runtime:
        yield runtime


async def _finished(rt: Runtime, stand_in, model: str = "sora-2") -> Job:
    """A job whose video the stand-in made and the client downloaded, as the engine does."""
    request = VideoRequest("a slow sunrise", model)
    task_id = await rt.client.submit(request)
    stand_in.state.tasks[task_id].seconds = 0
    path = rt.settings.media_dir / "job_fit.mp4"
    await rt.client.download(task_id, None, path)
    return Job("job_fit", Requester("cli", "local", "ann"), request, 0, "delivered",
               dt.datetime.now(dt.UTC), task_id=task_id, video_path=str(path))


def _notes() -> tuple[list[str], Notify]:
    """The lines a member would see, and the callback that collects them."""
    lines: list[str] = []

    async def notify(line: str) -> None:
        lines.append(line)
    return lines, notify


async def test_the_providers_smaller_rendition_is_posted_and_nothing_is_encoded(rt, stand_in) -> None:
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 20_000
    job = await _finished(rt, stand_in)
    video = Path(job.video_path or "")
    lines, notify = _notes()
    # The one transcoding slot is taken: only a fit that never encodes can finish.
    async with rt.chat.transcoder.turn():
        async with asyncio.timeout(10):
            async with rt.chat.fitter.fitted(job, video, LIMIT, notify) as path:
                posted = path.read_bytes()
    assert posted == padded_sample(20_000)
    assert lines == [texts.fetching_smaller_line(60_000, LIMIT), texts.UPLOADING]
    assert stand_in.state.renditions() == [job.task_id]
    assert list(rt.settings.media_dir.iterdir()) == [video]  # the rendition is gone, the video kept
    assert video.read_bytes() == padded_sample(60_000)


async def test_a_rendition_over_the_limit_falls_back_to_shrinking(rt, stand_in) -> None:
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 40_000
    job = await _finished(rt, stand_in)
    video = Path(job.video_path or "")
    lines, notify = _notes()
    async with rt.chat.fitter.fitted(job, video, LIMIT, notify) as path:
        posted = path.read_bytes()
    assert len(posted) <= LIMIT and posted[4:8] == b"ftyp"
    assert posted not in (padded_sample(40_000), padded_sample(60_000))
    assert lines == [texts.fetching_smaller_line(60_000, LIMIT), texts.shrinking_line(60_000, LIMIT),
                     texts.UPLOADING]
    assert stand_in.state.renditions() == [job.task_id]  # refused by its length, not retried
    assert list(rt.settings.media_dir.iterdir()) == [video]


async def test_a_rendition_that_is_not_a_video_falls_back_to_shrinking(rt, stand_in) -> None:
    stand_in.state.video_bytes = 60_000
    job = await _finished(rt, stand_in)
    stand_in.state.fail("download", "not-video")
    lines, notify = _notes()
    async with rt.chat.fitter.fitted(job, Path(job.video_path or ""), LIMIT, notify) as path:
        assert path.stat().st_size <= LIMIT
    assert texts.shrinking_line(60_000, LIMIT) in lines


async def test_without_the_key_the_video_is_shrunk_in_the_transcoders_turn(rt, stand_in) -> None:
    stand_in.state.video_bytes = 60_000
    job = await _finished(rt, stand_in, model="sora-2-pro")  # no smaller_rendition
    video = Path(job.video_path or "")
    lines, notify = _notes()
    async with rt.chat.transcoder.turn():  # another video is being shrunk
        fitting = asyncio.create_task(_post(rt, job, video, notify))
        await asyncio.sleep(0.3)
        assert lines == [texts.waiting_to_shrink_line(60_000)] and not fitting.done()
    posted = await asyncio.wait_for(fitting, 30)
    assert len(posted) <= LIMIT and posted[4:8] == b"ftyp"
    assert lines[1:] == [texts.shrinking_line(60_000, LIMIT), texts.UPLOADING]
    assert stand_in.state.renditions() == []
    assert list(rt.settings.media_dir.iterdir()) == [video]


async def _post(rt: Runtime, job: Job | None, video: Path, notify: Notify,
                limit: int = LIMIT) -> bytes:
    async with rt.chat.fitter.fitted(job, video, limit, notify) as path:
        return path.read_bytes()


async def test_a_video_that_fits_is_posted_as_it_is(rt, stand_in) -> None:
    stand_in.state.video_bytes = 20_000
    job = await _finished(rt, stand_in)
    lines, notify = _notes()
    async with rt.chat.fitter.fitted(job, Path(job.video_path or ""), LIMIT, notify) as path:
        assert path == Path(job.video_path or "")
    assert lines == [] and stand_in.state.renditions() == []


async def test_a_file_of_no_single_job_is_shrunk(rt, tmp_path) -> None:
    """A stitched sequence has no task at the provider: re-encoding is the only way."""
    stitched = tmp_path / "stitched.mp4"
    stitched.write_bytes(padded_sample(60_000))
    lines, notify = _notes()
    assert len(await _post(rt, None, stitched, notify)) <= LIMIT
    assert lines == [texts.shrinking_line(60_000, LIMIT), texts.UPLOADING]
    assert list(tmp_path.glob("stitched*")) == [stitched]


async def test_a_video_that_cannot_fit_raises_and_leaves_no_copy(rt, stand_in) -> None:
    stand_in.state.rendition_bytes = 20_000
    job = await _finished(rt, stand_in)
    video = Path(job.video_path or "")
    lines, notify = _notes()
    with pytest.raises(CannotFit) as caught:
        await _post(rt, job, video, notify, limit=500)
    assert (caught.value.size, caught.value.limit) == (video.stat().st_size, 500)
    assert caught.value.user_message == "The video is too large to upload here, even after shrinking."
    size = video.stat().st_size
    assert lines == [texts.fetching_smaller_line(size, 500), texts.shrinking_line(size, 500)]
    assert stand_in.state.renditions() == [job.task_id]
    assert list(rt.settings.media_dir.iterdir()) == [video]
