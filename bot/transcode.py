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
#: x264's preset for shrinking, picked by measurement (2026-11-25, 2-core VM, ffmpeg 9.0.2 of
#: imageio-ffmpeg, first attempt against 10 MiB): superfast costs 31 % less CPU than veryfast
#: (7.7 against 11.2 s for two 10-s 1080p clips, median of 3; 6.3 against 9.5 s for a 20-s
#: noisy clip) for an SSIM 0.001-0.002 lower (0.9379 / 0.9646 against 0.9399 / 0.9657), and
#: it fits on the first attempt as veryfast does. ultrafast loses 0.018 SSIM on the fractal
#: clip; faster..medium cost 43-109 % more CPU than veryfast for at most 0.0016 more SSIM.
#: x264's default thread count stays: a fixed -threads 1 or 2 saved 3-4 % of the CPU, and
#: -threads 1 cost 12 % more wall. Re-measure: `make bench-encoders` (benchmarks/encoders.py;
#: the rule and the figures are in benchmarks/README.md).
PRESET = "superfast"
_DURATION = re.compile(rb"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # deferred: finds (or unpacks) the binary on first use

    return imageio_ffmpeg.get_ffmpeg_exe()


def _niced() -> list[str]:
    """Run ffmpeg at low priority where `nice` exists: re-encoding must not starve the event
    loop's process of CPU (a 20 s 1080p clip takes about 6-8 s of it)."""
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


def encode_args(src: Path, dest: Path, limit: int, seconds: float, attempt: int = 0,
                preset: str = PRESET, threads: int | None = None) -> list[str]:
    """ffmpeg's arguments for one attempt at fitting `src` (`seconds` long) under `limit`
    bytes: each attempt aims 20 % lower, and the width and audio follow the bitrate.
    `shrink()` runs these; `benchmarks/encoders.py` measures them."""
    budget = limit * 8 * HEADROOM / max(seconds, 0.5) * 0.8 ** attempt
    audio_bps = 64_000 if budget > 600_000 else 32_000 if budget > 150_000 else 0
    video_bps = max(int(budget - audio_bps), 8_000)
    width = _width_for(video_bps)
    audio = ["-c:a", "aac", "-b:a", str(audio_bps)] if audio_bps else ["-an"]
    threading = ["-threads", str(threads)] if threads is not None else []
    return ["-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
            "-vf", f"scale='min(iw,{width})':-2", "-c:v", "libx264", "-preset", preset, *threading,
            "-b:v", str(video_bps), "-maxrate", str(video_bps), "-bufsize", str(video_bps * 2),
            *audio, "-movflags", "+faststart", str(dest)]


async def shrink(src: Path, limit: int, dest: Path | None = None, *, attempts: int = 3,
                 timeout: float = 600.0) -> Path | None:
    """Re-encode `src` to at most `limit` bytes; returns the new file or None if it cannot fit."""
    dest = dest or src.with_name(f"{src.stem}.small.mp4")
    seconds = await duration_seconds(src) or 20.0
    for attempt in range(attempts):
        code, err = await run_ffmpeg(*encode_args(src, dest, limit, seconds, attempt),
                                     timeout=timeout)
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
