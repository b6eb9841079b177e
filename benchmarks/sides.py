"""The four sides of the load benchmark, each run in a child process of its own.

- ours:   the real engine (`bot.runtime.open_runtime`), pacer on at its default; with
          `--processes N`, N processes sharing the stand-in and the database
          (benchmarks/processes.py).
- sdk:    openai-python's `create_and_poll` + streamed `download_content`, with the same
          number of downloads at once as ours (a semaphore around the download).
- floor:  bare aiohttp, no engine: submit, wait until every task is ready, download. What
          moving the bytes costs: the CPU floor.
- oracle: bare aiohttp that knows when each task will be ready (the stand-in's `/_tasks`)
          and starts its download at that exact moment: the lag floor. Nothing that polls
          can deliver sooner with the same download bound on this machine.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import shutil
import ssl
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from benchmarks.measure import (LoopStalls, Ticker, cpu_times, least_cpu, current_rss_mb, peak_rss_mb,
                                percentile)
from benchmarks.standin import StandIn

if TYPE_CHECKING:
    from bot.settings import Settings

SIDES = ("ours", "sdk", "floor", "oracle")
PROBE_WINDOW_S, PROBE_WINDOWS = 0.2, 5  # the stall sampler alone, at rest, before each side
PROBE_CALLS = 20  # ours' interaction, one after another, before the jobs


@dataclass
class Figures:
    side: str
    jobs: int
    tls: bool = False
    delivered: int = 0
    failed: int = 0
    bad_size: int = 0
    wall_s: float = math.nan
    lag_p50_s: float = math.nan
    lag_p99_s: float = math.nan
    seen_p50_s: float = math.nan       # ready -> the download began (polling, or the pacer)
    seen_p99_s: float = math.nan
    download_p50_s: float = math.nan   # download began -> file on disk, delivered
    download_p99_s: float = math.nan
    requests_per_job: float = math.nan  # as counted by the stand-in
    client_requests_per_job: float = math.nan  # ours: as counted by our clients
    handshakes_per_job: float = math.nan  # HTTPS: TLS handshakes the stand-in accepted, / N
    peak_rss_mb: float = math.nan
    start_rss_mb: float = math.nan
    cpu_s: float = math.nan
    cpu_user_s: float = math.nan
    cpu_sys_s: float = math.nan
    #: The probes' own CPU (the stall sampler; for ours also the interaction ticker), measured
    #: in this process at rest and left out of cpu_s: ours runs longer than the floors (the
    #: pacer), so it would otherwise pay more for the same probes (~15-25 ms per second).
    probe_cpu_s: float = 0.0
    stall_p99_ms: float = math.nan
    stall_max_ms: float = math.nan
    answer_p99_ms: float = math.nan    # ours: first answer to an interaction during the run
    answer_max_ms: float = math.nan
    download_mb_s: float = math.nan    # floor: throughput of its download phase
    big_stalls: list[tuple[float, float]] = field(default_factory=list)  # (s since start, s)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu_s / self.jobs if self.jobs else math.nan


class Deliveries:
    """When each task's download began and when its file was on disk and handed over. The
    file is kept, as production keeps it (its page-cache writeback is part of the cost),
    unless `--delete`."""

    def __init__(self, video_bytes: int, delete: bool) -> None:
        self.video_bytes = video_bytes
        self.delete = delete
        self.at: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.bad_size = 0

    def began(self, task_id: str) -> None:
        self.seen.setdefault(task_id, time.time())

    def delivered(self, task_id: str, path: Path) -> None:
        self.at[task_id] = time.time()
        if path.stat().st_size != self.video_bytes:
            self.bad_size += 1
        if self.delete:
            path.unlink()


@dataclass
class Context:
    """What a side needs, in its child process."""
    args: argparse.Namespace
    base_url: str
    workdir: Path
    figures: Figures
    deliveries: Deliveries
    cafile: Path | None
    stalls: LoopStalls = field(default_factory=LoopStalls)
    # ours with --processes: this process's first job number, and a call that returns
    # once every process has opened its runtime, so that all start submitting together.
    first_job: int = 0
    start_together: Callable[[], object] | None = None
    ticker: Ticker | None = None  # ours: the timed interaction, once it runs
    began: float = math.nan       # ours: time.time() at the first submit

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.cafile is None:
            return True  # aiohttp's default verification (unused over http)
        from benchmarks.tls import client_context

        return client_context(self.cafile)

    @property
    def media(self) -> Path:
        path = self.workdir / "videos"
        path.mkdir(parents=True, exist_ok=True)
        return path


# -- ours --------------------------------------------------------------------------------


async def run_ours(ctx: Context) -> float:
    """Our engine as an adapter drives it: submit N jobs, wait for every delivery, while an
    interaction (the checks a slash command runs before answering) is timed every 100 ms."""
    from bot.errors import SoraError
    from bot.models import Job, Progress, Requester, VideoRequest
    from bot.runtime import open_runtime
    from bot.settings import Settings

    args, deliveries = ctx.args, ctx.deliveries

    class Events:
        async def accepted(self, job: Job) -> None:
            pass

        async def progress(self, job: Job, progress: Progress) -> None:
            if progress.stage == "downloading" and job.task_id:
                deliveries.began(job.task_id)

        async def completed(self, job: Job, video: Path) -> None:
            assert job.task_id is not None
            deliveries.delivered(job.task_id, video)

        async def failed(self, job: Job, error: SoraError) -> None:
            ctx.figures.errors.append(f"{job.id}: {error.user_message}")

    # Defaults everywhere that production has them (the pacer, the download bound), except:
    # one user per job and no budget, so no job is refused; a concurrency cap of N jobs.
    settings = Settings(
        api_key="bench-key", base_url=ctx.base_url, **store_settings(args.db, ctx.workdir),
        media_dir=ctx.workdir / "videos", poll_first_delay=args.first_delay,
        poll_interval=args.interval, job_timeout=3600, max_concurrent_jobs=args.jobs,
        user_daily_usd=None,
    )
    ctx.figures.notes.append(_limits_note(settings, args.processes))
    asker = Requester("bench", "bench", "asker")
    question = VideoRequest(prompt="a lighthouse at dusk")
    async with open_runtime(settings) as rt:
        if ctx.start_together is not None:
            await asyncio.to_thread(ctx.start_together)  # the loop runs on (leases) meanwhile

        async def interaction() -> None:
            await rt.chat.check(question, asker)  # validation, price, budget room (a store read)
            await rt.budgets.status(asker.team, asker.user)

        per_call, calibration = await least_cpu(interaction, PROBE_CALLS)  # at rest
        ticker = ctx.ticker = Ticker(interaction, period=0.1)
        ticker.start()
        ctx.stalls.mark()  # the window is the jobs', as for the interaction: not start-up
        start = ctx.began = time.time()
        accepted = []
        # Job numbers (and so users and prompts) are distinct across --processes.
        for i in range(ctx.first_job, ctx.first_job + args.jobs):
            accepted.append(await rt.engine.submit(VideoRequest(prompt=f"benchmark clip {i}"),
                                                   Requester("bench", "bench", f"user{i}"), Events()))
            # In production each submit is its own interaction (its own event from Discord
            # or Slack), and the loop runs other work between them. submit() itself does
            # not yield, so without this the 500 submits would hold the loop for ~200 ms in
            # one go: a stall of the benchmark's making.
            await asyncio.sleep(0)
        jobs = await asyncio.gather(*(rt.engine.wait(a.job.id) for a in accepted))
        wall = time.time() - start
        await ticker.stop()
        ctx.figures.probe_cpu_s += calibration + per_call * len(ticker.latencies)
        await ctx.stalls.stop()  # before the runtime closes: shutting down is not the run
        ctx.figures.client_requests_per_job = rt.clients.requests_sent / args.jobs
    ctx.figures.answer_p99_ms = ticker.p99_ms()
    ctx.figures.answer_max_ms = 1000 * max(ticker.latencies, default=math.nan)
    ctx.figures.errors += ticker.errors[:3]
    ctx.figures.failed = sum(job.status != "delivered" or job.error is not None for job in jobs)
    return wall


def store_settings(db: str, workdir: Path) -> dict[str, Any]:
    """Ours' SORA_DB as Settings takes it: `--db` (a postgresql:// URL or a SQLite path), or
    by default a SQLite file in the run's temporary folder."""
    from storage.backends import is_postgres

    if is_postgres(db):
        return {"db_url": db, "db_path": workdir / "bench.db"}
    return {"db_url": "", "db_path": Path(db) if db else workdir / "bench.db"}


def _limits_note(settings: Settings, processes: int) -> str:
    rps, downloads = settings.api_requests_per_second, settings.max_parallel_downloads
    if processes == 1:
        return f"pacer {rps:g} requests/s, {downloads} downloads at once"
    # The pacer and the download bound live in each process (bot/ratelimit.py): nothing
    # shares them between processes, so the API sees up to N times the pace.
    return (f"pacer {rps:g} requests/s per process, so up to {processes * rps:g}/s at the API "
            f"from {processes} processes; {downloads} downloads at once per process")


# -- the openai SDK ----------------------------------------------------------------------


async def run_sdk(ctx: Context) -> float:
    """The same jobs through openai-python, with our download bound around its downloads."""
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK marks the Sora API deprecated
    import openai

    from bot.settings import Settings

    args = ctx.args
    gate = asyncio.Semaphore(Settings().max_parallel_downloads)  # equal bounds
    http = openai.DefaultAsyncHttpxClient(verify=ctx.ssl_context())
    client = openai.AsyncOpenAI(base_url=ctx.base_url, api_key="bench-key", timeout=3600,
                                http_client=http)

    async def one(i: int) -> None:
        try:
            video = await client.videos.create_and_poll(
                prompt=f"benchmark clip {i}", model="sora-2", seconds="4", size="1280x720")
            if video.status != "completed":
                raise RuntimeError(f"status {video.status}")
            path = ctx.media / f"{video.id}.mp4"
            async with gate:
                ctx.deliveries.began(video.id)
                async with client.videos.with_streaming_response.download_content(video.id) as resp:
                    await resp.stream_to_file(path)
            ctx.deliveries.delivered(video.id, path)
        except Exception as exc:  # noqa: BLE001  (counted and shown, like a failed job)
            ctx.figures.failed += 1
            ctx.figures.errors.append(f"job {i}: {type(exc).__name__}: {exc}"[:300])

    async with client:
        start = time.time()
        await asyncio.gather(*(one(i) for i in range(args.jobs)))
        return time.time() - start


# -- the floors --------------------------------------------------------------------------


async def _submit_all(session: Any, ctx: Context) -> list[str]:
    ids = []
    for i in range(ctx.args.jobs):
        async with session.post(f"{ctx.base_url}/videos/generations",
                                json={"prompt": f"benchmark clip {i}"}) as resp:
            ids.append((await resp.json())["data"][0]["task_id"])
    return ids


async def _download(session: Any, ctx: Context, task_id: str) -> None:
    """As our client downloads (same chunk size); retried while the stand-in says 404, in
    case the oracle's clock is a hair ahead of the stand-in's."""
    from bot.apimaster import CHUNK

    path = ctx.media / f"{task_id}.mp4"
    for _ in range(100):
        async with session.get(f"{ctx.base_url}/videos/{task_id}/content") as resp:
            if resp.status == 404:
                await asyncio.sleep(0.005)
                continue
            ctx.deliveries.began(task_id)
            with path.open("wb") as out:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    out.write(chunk)
            break
    ctx.deliveries.delivered(task_id, path)


def _session(ctx: Context) -> Any:
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, ssl=ctx.ssl_context()))


async def run_floor(ctx: Context) -> float:
    """Submit, wait until every task is ready, then download with our bound: the CPU floor."""
    from bot.settings import Settings

    gate = asyncio.Semaphore(Settings().max_parallel_downloads)
    args = ctx.args
    async with _session(ctx) as session:
        start = time.time()
        ids = await _submit_all(session, ctx)
        await asyncio.sleep(args.job_seconds * (1 + args.jitter) + 0.2)

        async def one(task_id: str) -> None:
            async with gate:
                await _download(session, ctx, task_id)

        began = time.time()
        await asyncio.gather(*(one(t) for t in ids))
        ctx.figures.download_mb_s = args.jobs * args.video_mb / (time.time() - began)
        return time.time() - start


async def run_oracle(ctx: Context, ready: Callable[[], dict[str, float]]) -> float:
    """Start each download at the moment its task becomes ready, with our bound: the lag
    floor (bandwidth-bound once many tasks are ready together)."""
    from bot.settings import Settings

    gate = asyncio.Semaphore(Settings().max_parallel_downloads)
    async with _session(ctx) as session:
        start = time.time()
        ids = await _submit_all(session, ctx)
        ready_at = await asyncio.to_thread(ready)

        async def one(task_id: str) -> None:
            await asyncio.sleep(max(0.0, ready_at[task_id] - time.time()))
            async with gate:
                await _download(session, ctx, task_id)

        await asyncio.gather(*(one(t) for t in ids))
        return time.time() - start


# -- one side, in this (child) process ---------------------------------------------------


def run_side(args: argparse.Namespace) -> Figures:
    if args.mem_cap_gb > 0:  # a runaway run fails instead of swapping the shared machine
        cap = int(args.mem_cap_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    video_bytes = int(args.video_mb * 1_000_000)
    figures = Figures(side=args.only, jobs=args.jobs, tls=args.cafile is not None)
    workdir = Path(tempfile.mkdtemp(prefix=f"sora-bench-{args.only}-"))
    key = args.cafile.with_name("key.pem") if args.cafile else None
    stand_in = StandIn(workdir, args.job_seconds, args.cafile, key)
    try:
        stand_in.call("/_control", {"video_bytes": video_bytes, "job_jitter": args.jitter,
                                    "poll_after_ms": round(args.interval * 1000), "record": True})
        deliveries = Deliveries(video_bytes, args.delete)
        if args.only == "ours" and args.processes > 1:
            from benchmarks.processes import run_processes  # it builds on this module

            run_processes(args, stand_in.base_url, workdir, figures, deliveries)
        else:
            ctx = Context(args, stand_in.base_url, workdir, figures, deliveries, args.cafile)
            measure_here(ctx, lambda: stand_in.call("/_tasks"))
        counts = stand_in.call("/_control", {})
        figures.requests_per_job = counts["requests"] / args.jobs
        if args.cafile is not None:
            figures.handshakes_per_job = stand_in.call("/_bench/handshakes")["accepted"] / args.jobs
        ready = stand_in.call("/_tasks")
    finally:
        stand_in.close()
        shutil.rmtree(workdir, ignore_errors=True)
        os.sync()  # the next run does not pay for this one's dirty pages
    _lags(figures, deliveries, ready)
    return figures


def measure_here(ctx: Context, ready: Callable[[], dict[str, float]] | None = None) -> None:
    """Run the side in this process: its wall time, CPU time and peak RSS into ctx.figures.
    `ready` (the stand-in's ready times) is for the oracle."""
    figures = ctx.figures
    _preload(ctx.args.only)
    figures.start_rss_mb = current_rss_mb()
    user0, sys0 = cpu_times()
    figures.wall_s = asyncio.run(_measured(ctx, ready))
    user1, sys1 = cpu_times()
    figures.cpu_user_s, figures.cpu_sys_s = user1 - user0, sys1 - sys0
    figures.cpu_s = figures.cpu_user_s + figures.cpu_sys_s - figures.probe_cpu_s
    figures.peak_rss_mb = peak_rss_mb()


async def _measured(ctx: Context, ready: Callable[[], dict[str, float]] | None) -> float:
    """The side, with the loop-stall sampler beside it (its CPU measured first, at rest)."""
    stalls = ctx.stalls
    stalls.start()
    per_window, calibration = await least_cpu(lambda: asyncio.sleep(PROBE_WINDOW_S), PROBE_WINDOWS)
    per_second = per_window / PROBE_WINDOW_S
    stalls.mark()
    began = time.perf_counter()
    try:
        if ctx.args.only == "oracle":
            assert ready is not None
            return await run_oracle(ctx, ready)
        runner = {"ours": run_ours, "sdk": run_sdk, "floor": run_floor}[ctx.args.only]
        return await runner(ctx)
    finally:
        await stalls.stop()
        ctx.figures.probe_cpu_s += calibration + (time.perf_counter() - began) * per_second
        ctx.figures.stall_p99_ms, ctx.figures.stall_max_ms = stalls.p99_ms(), stalls.max_ms()
        ctx.figures.big_stalls = [(round(at, 2), round(late, 3)) for at, late in stalls.big]


def _preload(side: str) -> None:
    """Import what the side needs before measuring, so start RSS and CPU are comparable."""
    import aiohttp  # noqa: F401

    import bot.runtime  # noqa: F401
    if side == "sdk":
        warnings.simplefilter("ignore", DeprecationWarning)
        import openai  # noqa: F401


def _lags(figures: Figures, deliveries: Deliveries, ready: dict[str, float]) -> None:
    lags = [at - ready[task] for task, at in deliveries.at.items() if task in ready]
    seen = [at - ready[task] for task, at in deliveries.seen.items() if task in ready]
    downloads = [deliveries.at[t] - at for t, at in deliveries.seen.items() if t in deliveries.at]
    figures.delivered = len(deliveries.at)
    figures.bad_size = deliveries.bad_size
    figures.lag_p50_s, figures.lag_p99_s = percentile(lags, 50), percentile(lags, 99)
    figures.seen_p50_s, figures.seen_p99_s = percentile(seen, 50), percentile(seen, 99)
    figures.download_p50_s, figures.download_p99_s = percentile(downloads, 50), percentile(downloads, 99)
