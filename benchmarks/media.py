"""The costs after a video is made: shrinking for Discord, and uploading to Slack.

- shrink:  N clips over Discord's 10 MiB limit shrunk at once with `bot.transcode.shrink`, as
           the Discord adapter does: wall, CPU (ours plus ffmpeg's), peak RSS of the process
           and its ffmpeg children together, how many ffmpeg ran at once, loop stalls.
- uploads: N uploads at once through slack_sdk's `files_upload_v2`, as the Slack adapter
           calls it, against a local stand-in for Slack's three upload steps in another
           process (`benchmarks/fakeslack.py`): peak RSS above the process's idle size.

Each runs in a child process of its own (see load.py).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import LoopStalls, RssSampler, child_pids, cpu_times, current_rss_mb

DISCORD_LIMIT = 10 * 2**20  # bytes: what a Discord bot may upload to a server without boosts


@dataclass
class MediaFigures:
    scenario: str            # "shrink" or "uploads"
    count: int
    ok: int = 0
    wall_s: float = math.nan
    cpu_s: float = math.nan          # this process and its children (ffmpeg)
    peak_rss_mb: float = math.nan    # process + children at one moment
    idle_rss_mb: float = math.nan
    stall_p99_ms: float = math.nan
    stall_max_ms: float = math.nan
    most_at_once: int = 0            # shrink: the most ffmpeg processes seen together
    source_mb: float = math.nan
    errors: list[str] = field(default_factory=list)

    @property
    def above_idle_mb(self) -> float:
        return self.peak_rss_mb - self.idle_rss_mb


def make_clip(dest: Path, seconds: float = 20.0) -> None:
    """A 1080p clip of `seconds` at ~7 Mb/s (about 18 MB for 20 s): over the 10 MiB limit as
    a Sora 1080p clip is. Noise keeps x264 from compressing it to nothing, so shrinking it
    costs what shrinking a real clip costs. Made once per benchmark run (~5 s)."""
    from bot.transcode import ffmpeg_exe

    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds:g}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds:g}",
         "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
         "-b:v", "7M", "-maxrate", "7M", "-bufsize", "14M", "-c:a", "aac", "-b:a", "128k",
         "-shortest", str(dest)],
        check=True)


def _copies(src: Path, count: int, where: Path) -> list[Path]:
    files = []
    for i in range(count):
        dest = where / f"clip{i}.mp4"
        shutil.copyfile(src, dest)  # one file each: nothing is shared through the page cache
        files.append(dest)
    return files


class FfmpegCounter:
    """The most ffmpeg processes alive at once among this process's children."""

    def __init__(self) -> None:
        self.most = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.most = max(self.most, len(child_pids(os.getpid())))
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _shrink_all(files: list[Path], figures: MediaFigures) -> None:
    from bot import transcode
    from bot.settings import Settings

    stalls, rss, ffmpegs = LoopStalls(), RssSampler(), FfmpegCounter()
    for sampler in (stalls, rss, ffmpegs):
        sampler.start()
    start = time.perf_counter()
    # As the Discord adapter shrinks: within the process's bound (SORA_MAX_TRANSCODES).
    transcoder = transcode.Transcoder(Settings().max_transcodes)

    async def one(f: Path) -> Path | None:
        async with transcoder.turn():
            return await transcode.shrink(f, DISCORD_LIMIT)

    results = await asyncio.gather(*(one(f) for f in files), return_exceptions=True)
    figures.wall_s = time.perf_counter() - start
    for sampler in (stalls, rss, ffmpegs):
        await sampler.stop()
    for result in results:
        if isinstance(result, BaseException):
            figures.errors.append(f"{type(result).__name__}: {result}"[:200])
        elif result is not None and result.stat().st_size <= DISCORD_LIMIT:
            figures.ok += 1
    figures.stall_p99_ms, figures.stall_max_ms = stalls.p99_ms(), stalls.max_ms()
    figures.peak_rss_mb, figures.most_at_once = rss.peak_mb, ffmpegs.most


def run_shrink(count: int, clip: Path) -> MediaFigures:
    figures = MediaFigures("shrink", count, source_mb=clip.stat().st_size / 1e6)
    workdir = Path(tempfile.mkdtemp(prefix="sora-bench-shrink-"))
    try:
        files = _copies(clip, count, workdir)
        import bot.transcode  # noqa: F401  (before the idle size is read)

        figures.idle_rss_mb = current_rss_mb()
        before = _all_cpu()
        asyncio.run(_shrink_all(files, figures))
        figures.cpu_s = _all_cpu() - before
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def _all_cpu() -> float:
    """User + system CPU of this process and of its finished children (ffmpeg)."""
    return sum(cpu_times(resource.RUSAGE_SELF)) + sum(cpu_times(resource.RUSAGE_CHILDREN))


# -- Slack uploads -----------------------------------------------------------------------


async def upload_as_production(client: object, session: object, uploads: asyncio.Semaphore,
                               video: Path, i: int) -> None:
    """What the Slack adapter does to post a video (adapters/slack/status.py): its upload
    function, within its bound on uploads at once."""
    from adapters.slack.status import upload_file

    async with uploads:
        await upload_file(client, session, video, f"sora-job{i}.mp4", f"clip {i}",  # type: ignore[arg-type]
                          "C0BENCH", None, "Here is your video")


async def _upload_all(files: list[Path], api_url: str, figures: MediaFigures) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    import aiohttp

    from adapters.slack.context import MAX_UPLOADS

    session = aiohttp.ClientSession()
    client = AsyncWebClient(token="xoxb-bench", base_url=api_url, timeout=600, session=session)
    uploads = asyncio.Semaphore(MAX_UPLOADS)
    stalls, rss = LoopStalls(), RssSampler(period=0.01)
    figures.idle_rss_mb = rss.sample()
    stalls.start()
    rss.start()
    start = time.perf_counter()
    results = await asyncio.gather(*(upload_as_production(client, session, uploads, f, i)
                                     for i, f in enumerate(files)), return_exceptions=True)
    await session.close()
    figures.wall_s = time.perf_counter() - start
    await stalls.stop()
    await rss.stop()
    figures.ok = sum(not isinstance(r, BaseException) for r in results)
    figures.errors += [f"{type(r).__name__}: {r}"[:200] for r in results if isinstance(r, BaseException)][:3]
    figures.stall_p99_ms, figures.stall_max_ms = stalls.p99_ms(), stalls.max_ms()
    figures.peak_rss_mb = rss.peak_mb


def run_uploads(count: int, video_bytes: int) -> MediaFigures:
    from adapters.stand_in.app import padded_sample

    figures = MediaFigures("uploads", count, source_mb=video_bytes / 1e6)
    workdir = Path(tempfile.mkdtemp(prefix="sora-bench-uploads-"))
    server = None
    try:
        data = padded_sample(video_bytes)
        files = []
        for i in range(count):
            (workdir / f"clip{i}.mp4").write_bytes(data)
            files.append(workdir / f"clip{i}.mp4")
        del data
        server = _FakeSlack(workdir)
        import slack_sdk.web.async_client  # noqa: F401  (before the idle size is read)

        before = sum(cpu_times())
        asyncio.run(_upload_all(files, server.api_url, figures))
        figures.cpu_s = sum(cpu_times()) - before
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


class _FakeSlack:
    """benchmarks/fakeslack.py in a process of its own, so its memory is not counted."""

    def __init__(self, workdir: Path) -> None:
        self.log_path = workdir / "fakeslack.log"
        self.log = self.log_path.open("w")
        script = Path(__file__).with_name("fakeslack.py")
        self.proc = subprocess.Popen([sys.executable, str(script)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if "SLACK_API_URL=" in text:
                self.api_url = text.split("SLACK_API_URL=", 1)[1].split()[0]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the Slack stand-in did not start:\n{self.log_path.read_text()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


def run_media(args: argparse.Namespace) -> MediaFigures:
    if args.only == "shrink":
        assert args.clip is not None
        return run_shrink(args.count, args.clip)
    return run_uploads(args.count, int(args.video_mb * 1_000_000))
