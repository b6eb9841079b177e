"""A team's stored MP4s and their thumbnails: a frame taken with the ffmpeg shipped in
imageio-ffmpeg, cached on disk beside the videos."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.transcode import run_ffmpeg

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard

log = logging.getLogger(__name__)

THUMB_WIDTH = 480
_locks: dict[str, asyncio.Lock] = {}


async def video(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    path = await _video_path(dash, request)
    # FileResponse answers Range requests, which <video> uses to seek.
    return web.FileResponse(path, headers={"Content-Type": "video/mp4", "Cache-Control": "private, max-age=3600",
                                           "X-Content-Type-Options": "nosniff"})


async def thumbnail(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    src = await _video_path(dash, request)
    thumb = dash.runtime.settings.media_dir / "thumbs" / f"{src.stem}.jpg"
    if not thumb.exists():
        lock = _locks.setdefault(str(thumb), asyncio.Lock())
        async with lock:  # one ffmpeg per thumbnail, however many browsers ask at once
            if not thumb.exists() and not await make_thumbnail(src, thumb):
                raise web.HTTPNotFound(text="No thumbnail for this video.")
        _locks.pop(str(thumb), None)
    return web.FileResponse(thumb, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=86400",
                                            "X-Content-Type-Options": "nosniff"})


async def _video_path(dash: Dashboard, request: web.Request) -> Path:
    """The job's MP4 when the job belongs to the session's team; 404 otherwise (the same
    answer for another team's job as for none, so ids cannot be probed)."""
    session = await dash.require(request)
    job: dict[str, Any] | None = await dash.runtime.store.get_job(request.match_info["job_id"])
    if job is None or job["team"] != session.team or not job.get("video_path"):
        raise web.HTTPNotFound(text="No such video.")
    path = Path(job["video_path"])
    if not path.is_file():  # moved away (`generate --out`) or cleaned up
        raise web.HTTPNotFound(text="This video is no longer stored.")
    return path


async def make_thumbnail(src: Path, dest: Path, timeout: float = 30.0) -> bool:
    """Write a JPEG of the frame one second in (the first frame of a shorter clip)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.jpg")
    for seek in ("1", "0"):
        code, err = await run_ffmpeg(
            "-hide_banner", "-loglevel", "error", "-y", "-ss", seek, "-i", str(src),
            "-frames:v", "1", "-vf", f"scale={THUMB_WIDTH}:-2", "-q:v", "4", str(tmp),
            timeout=timeout)
        if code == 0 and tmp.exists() and tmp.stat().st_size > 0:
            tmp.replace(dest)  # atomic: a reader never sees half a JPEG
            return True
        log.info("ffmpeg made no frame at %s s of %s: %s", seek, src.name,
                 err.decode(errors="replace")[-300:])
    tmp.unlink(missing_ok=True)
    return False
