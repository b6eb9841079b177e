"""Shrink an MP4 to fit an upload limit, with the ffmpeg that ships in imageio-ffmpeg.

Platform-free: adapters call `shrink()` when a chat service caps file sizes. ffmpeg runs as
an asyncio subprocess so the event loop never blocks.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger(__name__)

#: Leave room for the MP4 container and for encoders overshooting the target bitrate.
HEADROOM = 0.88
_DURATION = re.compile(rb"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # deferred: finds (or unpacks) the binary on first use

    return imageio_ffmpeg.get_ffmpeg_exe()


def _niced() -> list[str]:
    """Run ffmpeg at low priority where `nice` exists: re-encoding must not starve the event
    loop's process of CPU (a 20 s 1080p clip takes about 9 s of it)."""
    nice = shutil.which("nice")
    return [nice, "-n", "10"] if nice else []


async def run_ffmpeg(*args: str, timeout: float) -> tuple[int, bytes]:
    """Run the shipped ffmpeg at low priority; (exit code, stderr). Killed on timeout or
    cancellation, never left running."""
    proc = await asyncio.create_subprocess_exec(
        *_niced(), ffmpeg_exe(), *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:  # timeout or cancellation: never leave ffmpeg running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, err


async def duration_seconds(src: Path, timeout: float = 30.0) -> float | None:
    """The clip's duration from ffmpeg's header dump, or None when it cannot tell."""
    _, err = await run_ffmpeg("-hide_banner", "-i", str(src), timeout=timeout)
    hit = _DURATION.search(err)
    if not hit:
        return None
    h, m, s = hit.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def _width_for(video_bps: float) -> int:
    """A frame width the bitrate can carry without turning to mush."""
    for bps, width in ((2_000_000, 1280), (900_000, 854), (400_000, 640)):
        if video_bps >= bps:
            return width
    return 426


async def shrink(src: Path, limit: int, dest: Path | None = None, *, attempts: int = 3,
                 timeout: float = 600.0) -> Path | None:
    """Re-encode `src` to at most `limit` bytes; returns the new file or None if it cannot fit."""
    dest = dest or src.with_name(f"{src.stem}.small.mp4")
    seconds = await duration_seconds(src) or 20.0
    total_bps = limit * 8 * HEADROOM / max(seconds, 0.5)
    for attempt in range(attempts):
        budget = total_bps * 0.8 ** attempt
        audio_bps = 64_000 if budget > 600_000 else 32_000 if budget > 150_000 else 0
        video_bps = max(int(budget - audio_bps), 8_000)
        width = _width_for(video_bps)
        audio = ["-c:a", "aac", "-b:a", str(audio_bps)] if audio_bps else ["-an"]
        code, err = await run_ffmpeg(
            "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
            "-vf", f"scale='min(iw,{width})':-2", "-c:v", "libx264", "-preset", "veryfast",
            "-b:v", str(video_bps), "-maxrate", str(video_bps), "-bufsize", str(video_bps * 2),
            *audio, "-movflags", "+faststart", str(dest), timeout=timeout)
        if code != 0:
            log.error("ffmpeg could not shrink %s: %s", src.name, err.decode(errors="replace")[-500:])
            return None
        size = dest.stat().st_size
        log.info("Shrunk %s to %d bytes (limit %d, attempt %d)", src.name, size, limit, attempt + 1)
        if size <= limit:
            return dest
    dest.unlink(missing_ok=True)
    return None


class Transcoder:
    """The process's re-encoding, as a bounded resource: at most `slots` ffmpeg at once
    (SORA_MAX_TRANSCODES; each takes a core and ~200 MB), the rest wait their turn."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._free = asyncio.Semaphore(self.slots)

    @property
    def must_wait(self) -> bool:
        return self._free.locked()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self._free:
            yield
