"""The team's video library: stored results found again by job id, sequences of continued
clips, stitching them, and pruning old video files. The provider's links expire in about a
day, so the files the engine downloaded are the library."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from bot import clips
from bot.errors import InvalidRequest, SoraError
from bot.models import Job
from bot.settings import Settings
from storage.store import Store, now_iso

log = logging.getLogger(__name__)


class VideoGone(SoraError):
    """The job exists but its video file does not (pruned, or never made)."""


async def find(store: Store, job_id: str, team: str | None = None) -> Job:
    """A job of `team` (any team when None); InvalidRequest naming the id otherwise."""
    job_id = job_id.strip()
    row = await store.get_job(job_id)
    if row is None or (team is not None and row["team"] != team):
        raise InvalidRequest(f"There is no job {job_id} here. `jobs` lists your recent ones.")
    return Job.from_row(row)


async def stored_video(store: Store, job_id: str, team: str | None = None) -> tuple[Job, Path]:
    """The job and its video file; VideoGone when it was pruned or never delivered."""
    job = await find(store, job_id, team)
    row = await store.get_job(job.id) or {}
    if row.get("pruned_at"):
        raise VideoGone(f"The video of {job.id} was deleted on {row['pruned_at'][:10]} to save "
                        "space (SORA_KEEP_VIDEOS_DAYS); its record and cost stay in the ledger.")
    if job.status != "delivered" or not job.video_path:
        raise VideoGone(f"{job.id} has no video: it is {job.status}.")
    path = Path(job.video_path)
    if not path.is_file():
        raise VideoGone(f"The video file of {job.id} is no longer on the bot's host.")
    return job, path


def sequence_of(job: Job) -> str:
    """The sequence a clip continued from `job` joins: `job`'s own, or one `job` starts."""
    return job.sequence or job.id


async def last_frame(store: Store, job_id: str, team: str | None = None) -> tuple[Job, bytes]:
    """The job and the final frame of its video (PNG, at the video's own size)."""
    job, path = await stored_video(store, job_id, team)
    return job, await clips.last_frame(path)


async def sequence(store: Store, job: Job) -> list[Job]:
    """The delivered clips of `job`'s sequence, oldest first (just `job` when it has none)."""
    jobs = [Job.from_row(r) for r in await store.sequence_jobs(sequence_of(job))]
    return [j for j in jobs if j.status == "delivered" and j.video_path] or [job]


async def is_last_clip(store: Store, job: Job) -> bool:
    """Whether `job` ends a sequence of two or more clips (where the Stitch button goes)."""
    clips_ = await sequence(store, job)
    return len(clips_) >= 2 and clips_[-1].id == job.id


async def stitch_jobs(store: Store, settings: Settings, job_ids: list[str], out: Path,
                      team: str | None = None) -> Path:
    """Join the videos of `job_ids`, in that order, into `out`. Costs nothing."""
    paths = [(await stored_video(store, j, team))[1] for j in job_ids]
    return await clips.stitch(paths, out)


async def stitch_sequence(store: Store, settings: Settings, job_id: str,
                          team: str | None = None) -> tuple[list[Job], Path]:
    """Join every clip of the sequence `job_id` belongs to, oldest first."""
    job = await find(store, job_id, team)
    clips_ = await sequence(store, job)
    if len(clips_) < 2:
        raise InvalidRequest(f"{job.id} is not part of a sequence yet: continue it first.")
    out = settings.media_dir / f"stitched-{sequence_of(job)}-{len(clips_)}.mp4"
    return clips_, await stitch_jobs(store, settings, [j.id for j in clips_], out, team)


async def prune(store: Store, settings: Settings, now: dt.datetime | None = None) -> list[str]:
    """Delete video files older than SORA_KEEP_VIDEOS_DAYS; the jobs and the ledger stay.
    Returns the ids of the jobs whose files went."""
    days = settings.keep_videos_days
    if days is None:
        return []
    now = now or dt.datetime.now(dt.UTC)
    pruned = []
    for row in await store.videos_before(now_iso(now - dt.timedelta(days=days))):
        Path(row["video_path"]).unlink(missing_ok=True)
        await store.mark_pruned(row["id"], now_iso(now))
        pruned.append(row["id"])
    log.info("Pruned %d video file(s) older than %d day(s)", len(pruned), days)
    return pruned
