"""Load benchmark: N concurrent Sora jobs through our engine, then through the openai SDK.

Both runs go against the local APIMaster stand-in running in its own process, with poll
timings scaled down (jobs of ~3 s +-50 %, a 1 s poll interval) and 20 MB videos. Each run
happens in a child process of its own, so peak RSS and CPU time belong to that run alone;
this parent prints the two side by side, the ratios, and the targets (benchmarks/README.md).

    .venv/bin/python benchmarks/load.py [--jobs 500]      # or: make bench ARGS="--jobs 50"
    .venv/bin/python benchmarks/load.py --only ours --processes 4 --db postgresql://...

Not a test: figures depend on the machine. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a plain `python benchmarks/load.py` finds bot/

TARGET_RSS_MB = 200.0
TARGET_CPU_MS = 20.0
TARGET_LAG_INTERVALS = 1.2
TARGET_JOBS = 500
TARGET_STALL_MS = 50.0
STALL_TICK_S = 0.01


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=500, help="concurrent jobs (default 500)")
    p.add_argument("--job-seconds", type=float, default=3.0, help="stand-in task length (default 3)")
    p.add_argument("--jitter", type=float, default=0.5, help="+- fraction of the task length (default 0.5)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="poll interval, seconds; also the stand-in's openai-poll-after-ms hint (default 1)")
    p.add_argument("--first-delay", type=float, default=1.0,
                   help="our engine's first poll delay, seconds (default 1; the SDK polls at once)")
    p.add_argument("--video-mb", type=float, default=20.0, help="video size in MB (default 20)")
    p.add_argument("--sdk-download", choices=("buffered", "streamed"), default="streamed",
                   help="SDK: download_content() then write the bytes (holds every video in memory), or "
                        "with_streaming_response.download_content() + stream_to_file() (default)")
    p.add_argument("--only", choices=("ours", "sdk", "floor"),
                   help="run one side in this process and print it")
    p.add_argument("--no-floor", action="store_true",
                   help="skip the I/O floor run (plain aiohttp downloads, no engine)")
    p.add_argument("--db", help="SORA_DB for our engine: a SQLite path or a postgresql:// URL "
                                "(default: a SQLite file in the run's temporary folder)")
    p.add_argument("--processes", type=int, default=1,
                   help="our engine's jobs split across this many processes sharing the database "
                        "and one stand-in (default 1)")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # base URL: one of --processes, run by the parent
    p.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)  # used by the parent
    p.add_argument("--mem-cap-gb", type=float, default=8.0,
                   help="address-space cap for each run, so a runaway run fails instead of swapping")
    return p.parse_args(argv)


# -- figures -----------------------------------------------------------------------------


@dataclass
class Figures:
    side: str
    jobs: int
    delivered: int = 0
    failed: int = 0
    bad_size: int = 0
    wall_s: float = 0.0
    lag_p50_s: float = math.nan
    lag_p99_s: float = math.nan
    lag_max_s: float = math.nan
    seen_p50_s: float = math.nan   # ready -> a poll saw "completed" (the download starts)
    seen_p99_s: float = math.nan
    download_p50_s: float = math.nan  # download start -> file on disk, delivered
    download_p99_s: float = math.nan
    requests_per_job: float = math.nan          # as counted by the stand-in
    client_requests_per_job: float | None = None  # as counted by our client (ours only)
    download_mb_s: float | None = None  # floor only: throughput of the download phase
    stall_p99_ms: float = math.nan  # how late a 10 ms timer fires: the event loop held up
    stall_max_ms: float = math.nan
    processes: int = 1
    peak_rss_mb: float = 0.0
    start_rss_mb: float = 0.0
    cpu_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_sys_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu_s / self.jobs if self.jobs else math.nan


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_times() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class StallMeter:
    """Measures how late the event loop runs a 10 ms timer, for the whole run: a blocking
    call on the loop (a database wait, a big file write) shows here."""

    def __init__(self) -> None:
        self.late_s: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(STALL_TICK_S)
            self.late_s.append(max(0.0, loop.time() - before - STALL_TICK_S))

    def stop(self, figures: Figures) -> None:
        if self._task is not None:
            self._task.cancel()
        figures.stall_p99_ms = 1000 * percentile(self.late_s, 99)
        figures.stall_max_ms = 1000 * max(self.late_s, default=math.nan)


# -- the stand-in, in its own process ----------------------------------------------------


def _free_port() -> int:
    # `fake-api` takes a port from 1 up (PORT's rule), so the benchmark picks a free one.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandIn:
    """`sora-bot fake-api --port PORT` as a subprocess, configured over HTTP."""

    def __init__(self, workdir: Path, job_seconds: float) -> None:
        self.log_path = workdir / "stand-in.log"
        self.log = self.log_path.open("w")
        code = "from adapters.main import main; raise SystemExit(main())"
        env = {**os.environ, "APIMASTER_API_KEY": "", "LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "fake-api", "--port", str(_free_port()), "--job-seconds",
             str(job_seconds)],
            cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base_url = self._wait_for_url()
        self.origin = self.base_url.removesuffix("/v1")

    def _wait_for_url(self) -> str:
        marker = "APIMASTER_BASE_URL="
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            if marker in text:
                return text.split(marker, 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the stand-in did not start:\n{self.log_path.read_text()}")

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.origin + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# -- one side, in this process -----------------------------------------------------------


class Deliveries:
    """When each task's file was on disk and handed over; the file is then deleted."""

    def __init__(self, video_bytes: int) -> None:
        self.video_bytes = video_bytes
        self.at: dict[str, float] = {}
        self.seen: dict[str, float] = {}  # when the download began
        self.bad_size = 0

    def delivered(self, task_id: str, path: Path) -> None:
        self.at[task_id] = time.time()
        if path.stat().st_size != self.video_bytes:
            self.bad_size += 1
        path.unlink()


async def run_ours(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
                   deliveries: Deliveries) -> float:
    """Our engine, as an adapter drives it: submit N jobs, wait for every delivery."""
    from bot.errors import SoraError
    from bot.models import Job, Progress, Requester, VideoRequest
    from bot.runtime import open_runtime
    from bot.settings import Settings

    class Events:
        async def accepted(self, job: Job) -> None:
            pass

        async def progress(self, job: Job, progress: Progress) -> None:
            if progress.stage == "downloading" and job.task_id:
                deliveries.seen[job.task_id] = time.time()

        async def completed(self, job: Job, video: Path) -> None:
            assert job.task_id is not None
            deliveries.delivered(job.task_id, video)

        async def failed(self, job: Job, error: SoraError) -> None:
            figures.errors.append(f"{job.id}: {error.user_message}")

    db = args.db or str(workdir / "bench.db")
    settings = Settings(
        api_key="bench-key", base_url=base_url, db_path=workdir / "bench.db",
        db_url=db if db.startswith(("postgresql://", "postgres://")) else "",
        media_dir=workdir / "videos", poll_first_delay=args.first_delay,
        poll_interval=args.interval, job_timeout=600, max_concurrent_jobs=args.jobs,
        api_requests_per_second=0, user_daily_usd=None,
    )
    if not settings.db_url:
        settings = settings.with_(db_path=Path(db))
    events = Events()
    stalls = StallMeter()
    who = f"{os.getpid()}-"  # one user per job, distinct across --processes
    async with open_runtime(settings) as rt:
        stalls.start()
        start = time.time()
        accepted = [await rt.engine.submit(VideoRequest(prompt=f"benchmark clip {i}"),
                                           Requester("bench", "bench", f"user{who}{i}"), events)
                    for i in range(args.jobs)]
        jobs = await asyncio.gather(*(rt.engine.wait(a.job.id) for a in accepted))
        wall = time.time() - start
        stalls.stop(figures)
        figures.client_requests_per_job = rt.client.requests_sent / args.jobs
    figures.failed = sum(job.status != "delivered" or job.error is not None for job in jobs)
    return wall


async def run_sdk(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
                  deliveries: Deliveries) -> float:
    """The same jobs through openai-python: create_and_poll, then download_content."""
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK marks the Sora API deprecated
    from openai import AsyncOpenAI

    media = workdir / "videos"
    media.mkdir(parents=True, exist_ok=True)
    client = AsyncOpenAI(base_url=base_url, api_key="bench-key", timeout=600)

    async def one(i: int) -> None:
        try:
            video = await client.videos.create_and_poll(
                prompt=f"benchmark clip {i}", model="sora-2", seconds="4", size="1280x720")
            if video.status != "completed":
                raise RuntimeError(f"status {video.status}")
            deliveries.seen[video.id] = time.time()
            path = media / f"{video.id}.mp4"
            if args.sdk_download == "buffered":
                content = await client.videos.download_content(video.id)
                content.write_to_file(path)
            else:
                async with client.videos.with_streaming_response.download_content(video.id) as resp:
                    await resp.stream_to_file(path)
            deliveries.delivered(video.id, path)
        except Exception as exc:
            figures.failed += 1
            figures.errors.append(f"job {i}: {type(exc).__name__}: {exc}"[:300])

    async with client:
        start = time.time()
        await asyncio.gather(*(one(i) for i in range(args.jobs)))
        return time.time() - start


async def run_floor(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
                    deliveries: Deliveries) -> float:
    """No engine, no polling, no database: submit with plain aiohttp, wait until every task
    is ready, then download them as our client does (same chunking, same number at a time)
    and delete them. What moving N videos to disk costs on this machine."""
    import aiohttp

    from bot.apimaster import CHUNK
    from bot.settings import Settings

    media = workdir / "videos"
    media.mkdir(parents=True, exist_ok=True)
    gate = asyncio.Semaphore(Settings().max_parallel_downloads)
    async with aiohttp.ClientSession() as session:
        start = time.time()
        ids = []
        for i in range(args.jobs):
            async with session.post(f"{base_url}/videos/generations",
                                    json={"prompt": f"benchmark clip {i}"}) as resp:
                ids.append((await resp.json())["data"][0]["task_id"])
        await asyncio.sleep(args.job_seconds * (1 + args.jitter) + 0.2)

        async def one(task_id: str) -> None:
            path = media / f"{task_id}.mp4"
            async with gate, session.get(f"{base_url}/videos/{task_id}/content") as resp:
                deliveries.seen[task_id] = time.time()
                with path.open("wb") as out:
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        out.write(chunk)
            deliveries.delivered(task_id, path)

        began = time.time()
        await asyncio.gather(*(one(t) for t in ids))
        figures.download_mb_s = args.jobs * args.video_mb / (time.time() - began)
        return time.time() - start


def measure(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
            deliveries: Deliveries) -> None:
    """Run one side in this process against a running stand-in: wall time, CPU and RSS."""
    runner = {"ours": run_ours, "sdk": run_sdk, "floor": run_floor}[args.only]
    # Import what the side needs before measuring, so start RSS and CPU are comparable.
    if args.only in ("ours", "floor"):
        import bot.runtime  # noqa: F401  (preloaded on purpose)
    else:
        import openai  # noqa: F401  (preloaded on purpose)
    figures.start_rss_mb = current_rss_mb()
    user0, sys0 = cpu_times()
    figures.wall_s = asyncio.run(runner(args, base_url, workdir, figures, deliveries))
    user1, sys1 = cpu_times()
    figures.cpu_user_s, figures.cpu_sys_s = user1 - user0, sys1 - sys0
    figures.cpu_s = figures.cpu_user_s + figures.cpu_sys_s
    figures.peak_rss_mb = peak_rss_mb()


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """One of --processes: its share of the jobs against the parent's stand-in and database;
    hands back its figures and when each of its videos was seen and delivered."""
    assert args.worker and args.json_out
    figures = Figures(side="ours", jobs=args.jobs)
    deliveries = Deliveries(int(args.video_mb * 1_000_000))
    workdir = Path(os.environ["SORA_BENCH_WORKDIR"])
    measure(args, args.worker, workdir, figures, deliveries)
    return {"figures": asdict(figures), "at": deliveries.at, "seen": deliveries.seen,
            "bad_size": deliveries.bad_size}


def run_workers(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
                deliveries: Deliveries) -> None:
    """Our engine in --processes processes at once on one database: wall time is the
    slowest's, CPU the sum, RSS and stalls the worst process's."""
    share = [args.jobs // args.processes + (n < args.jobs % args.processes) for n in range(args.processes)]
    outs = [workdir / f"worker{n}.json" for n in range(args.processes)]
    db = args.db or str(workdir / "bench.db")
    if not db.startswith(("postgresql://", "postgres://")):
        # Migrate once before the race to start, as a deployment's first process would.
        from storage.store import Store

        async def migrate() -> None:
            await (await Store.open(db)).aclose()
        asyncio.run(migrate())
    procs = []
    for n, out in enumerate(outs):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--only", "ours", "--worker", base_url,
               "--jobs", str(share[n]), "--db", db, "--json-out", str(out),
               *_passed_on(args)]
        procs.append(subprocess.Popen(cmd, env={**os.environ, "SORA_BENCH_WORKDIR": str(workdir)}))
    for proc in procs:
        proc.wait()
    results = [json.loads(out.read_text()) for out in outs if out.exists() and out.stat().st_size]
    if len(results) != len(outs):
        figures.errors.append(f"{len(outs) - len(results)} worker process(es) failed")
    for r in results:
        f = Figures(**r["figures"])
        deliveries.at.update(r["at"])
        deliveries.seen.update(r["seen"])
        deliveries.bad_size += r["bad_size"]
        figures.wall_s = max(figures.wall_s, f.wall_s)
        figures.cpu_user_s += f.cpu_user_s
        figures.cpu_sys_s += f.cpu_sys_s
        figures.cpu_s += f.cpu_s
        figures.failed += f.failed
        figures.errors += f.errors
        figures.peak_rss_mb = max(figures.peak_rss_mb, f.peak_rss_mb)
        figures.start_rss_mb = max(figures.start_rss_mb, f.start_rss_mb)
        figures.stall_p99_ms = _worst(figures.stall_p99_ms, f.stall_p99_ms)
        figures.stall_max_ms = _worst(figures.stall_max_ms, f.stall_max_ms)
    figures.client_requests_per_job = None


def _worst(a: float, b: float) -> float:
    return b if math.isnan(a) else max(a, b)


def _passed_on(args: argparse.Namespace) -> list[str]:
    """The timing options a worker shares with its parent."""
    return ["--job-seconds", str(args.job_seconds), "--jitter", str(args.jitter),
            "--interval", str(args.interval), "--first-delay", str(args.first_delay),
            "--video-mb", str(args.video_mb), "--mem-cap-gb", str(args.mem_cap_gb)]


def run_side(args: argparse.Namespace) -> Figures:
    if args.mem_cap_gb > 0:
        cap = int(args.mem_cap_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    video_bytes = int(args.video_mb * 1_000_000)
    figures = Figures(side=args.only, jobs=args.jobs,
                      processes=args.processes if args.only == "ours" else 1)
    workdir = Path(tempfile.mkdtemp(prefix=f"sora-bench-{args.only}-"))
    stand_in = StandIn(workdir, args.job_seconds)
    try:
        stand_in.call("/_control", {"video_bytes": video_bytes, "job_jitter": args.jitter,
                                    "poll_after_ms": round(args.interval * 1000), "record": True})
        deliveries = Deliveries(video_bytes)
        if args.only == "ours" and args.processes > 1:
            run_workers(args, stand_in.base_url, workdir, figures, deliveries)
        else:
            measure(args, stand_in.base_url, workdir, figures, deliveries)
        counts = stand_in.call("/_control", {})  # before /_tasks, which is itself recorded
        figures.requests_per_job = counts["requests"] / args.jobs
        ready = stand_in.call("/_tasks")
    finally:
        stand_in.close()
        shutil.rmtree(workdir, ignore_errors=True)
    lags = [at - ready[task] for task, at in deliveries.at.items() if task in ready]
    figures.delivered = len(deliveries.at)
    figures.bad_size = deliveries.bad_size
    figures.lag_p50_s, figures.lag_p99_s = percentile(lags, 50), percentile(lags, 99)
    figures.lag_max_s = max(lags, default=math.nan)
    seen = [at - ready[task] for task, at in deliveries.seen.items() if task in ready]
    downloads = [deliveries.at[task] - at for task, at in deliveries.seen.items() if task in deliveries.at]
    figures.seen_p50_s, figures.seen_p99_s = percentile(seen, 50), percentile(seen, 99)
    figures.download_p50_s, figures.download_p99_s = percentile(downloads, 50), percentile(downloads, 99)
    return figures


# -- printing ----------------------------------------------------------------------------


def show(f: Figures) -> str:
    head = f"{f.side}: {f.jobs} jobs, {f.delivered} delivered, {f.failed} failed" + (
        f", {f.bad_size} of the wrong size" if f.bad_size else "") + (
        f" ({f.processes} processes on one database)" if f.processes > 1 else "")
    if f.side == "floor":
        return "\n".join([
            head + " (plain aiohttp: submit, wait, download, write, delete; no engine)",
            f"  download throughput    {f.download_mb_s or math.nan:8.0f} MB/s",
            f"  peak RSS               {f.peak_rss_mb:8.1f} MB (at start {f.start_rss_mb:.1f})",
            f"  CPU per job            {f.cpu_ms_per_job:8.2f} ms "
            f"({f.cpu_s:.2f} s: user {f.cpu_user_s:.2f}, sys {f.cpu_sys_s:.2f})",
        ] + [f"  error: {e}" for e in f.errors[:5]])
    lines = [
        head,
        f"  wall time              {f.wall_s:8.2f} s",
        f"  delivery lag p50/p99   {f.lag_p50_s:8.3f} / {f.lag_p99_s:.3f} s (max {f.lag_max_s:.3f})",
        f"    ready -> seen done   {f.seen_p50_s:8.3f} / {f.seen_p99_s:.3f} s",
        f"    download+deliver     {f.download_p50_s:8.3f} / {f.download_p99_s:.3f} s",
        f"  HTTP requests per job  {f.requests_per_job:8.2f} ({f.requests_per_job - 2:.2f} polls)"
        + (f" (our client counted {f.client_requests_per_job:.2f})"
           if f.client_requests_per_job is not None else ""),
        f"  peak RSS               {f.peak_rss_mb:8.1f} MB (at start {f.start_rss_mb:.1f})",
        f"  CPU per job            {f.cpu_ms_per_job:8.2f} ms "
        f"({f.cpu_s:.2f} s: user {f.cpu_user_s:.2f}, sys {f.cpu_sys_s:.2f})",
    ]
    if not math.isnan(f.stall_p99_ms):
        lines.append(f"  event-loop stall p99   {f.stall_p99_ms:8.1f} ms (max {f.stall_max_ms:.1f}; "
                     f"target < {TARGET_STALL_MS:.0f} ms: {verdict(f.stall_p99_ms < TARGET_STALL_MS)})")
    lines += [f"  error: {e}" for e in f.errors[:5]]
    if len(f.errors) > 5:
        lines.append(f"  ... and {len(f.errors) - 5} more errors")
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def compare(args: argparse.Namespace, ours: Figures, sdk: Figures | None,
            floor: Figures | None = None) -> str:
    out = []
    if sdk is not None:
        out.append("ours / SDK")
        for label, a, b in (("wall time", ours.wall_s, sdk.wall_s),
                            ("lag p50", ours.lag_p50_s, sdk.lag_p50_s),
                            ("lag p99", ours.lag_p99_s, sdk.lag_p99_s),
                            ("requests per job", ours.requests_per_job, sdk.requests_per_job),
                            ("peak RSS", ours.peak_rss_mb, sdk.peak_rss_mb),
                            ("CPU per job", ours.cpu_ms_per_job, sdk.cpu_ms_per_job)):
            ratio = a / b if b else math.nan
            out.append(f"  {label:<18} {ratio:6.2f}x")
    scale = "" if args.jobs >= TARGET_JOBS else f"  (at {args.jobs} jobs; the target is for {TARGET_JOBS})"
    lag_cap = TARGET_LAG_INTERVALS * args.interval
    out.append("targets (ours)")
    all_done = ours.delivered == ours.jobs and ours.failed == 0 and ours.bad_size == 0
    out.append(f"  [{verdict(all_done)}] every job delivered once: {ours.delivered}/{ours.jobs}")
    out.append(f"  [{verdict(ours.peak_rss_mb < TARGET_RSS_MB) if not scale else 'n/a '}] "
               f"{args.jobs} jobs in one process, peak RSS {ours.peak_rss_mb:.1f} MB < "
               f"{TARGET_RSS_MB:.0f} MB{scale}")
    out.append(f"  [{verdict(ours.cpu_ms_per_job < TARGET_CPU_MS)}] CPU {ours.cpu_ms_per_job:.2f} ms "
               f"per job < {TARGET_CPU_MS:.0f} ms")
    if floor is not None:
        out.append(f"         the I/O floor (no engine) is {floor.cpu_ms_per_job:.2f} ms per job; "
                   f"the engine adds {ours.cpu_ms_per_job - floor.cpu_ms_per_job:.2f} ms")
    out.append(f"  [{verdict(ours.stall_p99_ms < TARGET_STALL_MS)}] event-loop stall p99 "
               f"{ours.stall_p99_ms:.1f} ms < {TARGET_STALL_MS:.0f} ms")
    out.append(f"  [{verdict(ours.lag_p99_s <= lag_cap)}] p99 lag {ours.lag_p99_s:.3f} s <= "
               f"{TARGET_LAG_INTERVALS} x {args.interval:g} s poll interval = {lag_cap:.2f} s")
    out.append(f"         of which ready -> seen done (polling) p99 {ours.seen_p99_s:.3f} s, "
               f"download p99 {ours.download_p99_s:.3f} s")
    window = 2 * args.jitter * args.job_seconds
    if floor is not None and floor.download_mb_s and window > 0:
        out.append(f"         {args.jobs} x {args.video_mb:g} MB ready within {window:g} s needs "
                   f"~{args.jobs * args.video_mb / window:.0f} MB/s; this machine moves "
                   f"{floor.download_mb_s:.0f} MB/s without the engine")
    if sdk is not None:
        out.append(f"  [{verdict(ours.requests_per_job <= sdk.requests_per_job)}] requests per job "
                   f"{ours.requests_per_job:.2f} <= SDK's {sdk.requests_per_job:.2f}")
        if sdk.seen_p50_s > ours.seen_p50_s + args.interval / 2:
            out.append(f"         the SDK polls late under this load (ready -> seen done p50 "
                       f"{sdk.seen_p50_s:.2f} s, ours {ours.seen_p50_s:.2f} s), so it sends fewer polls")
    return "\n".join(out)


def child(args: argparse.Namespace, side: str, argv: list[str]) -> Figures | None:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--only", side, "--json-out", str(out)]
        code = subprocess.run(cmd, check=False).returncode
        if code != 0 or not out.stat().st_size:
            print(f"{side}: the run failed (exit {code})", flush=True)
            return None
        data = json.loads(out.read_text())
        return Figures(**data)
    finally:
        out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.worker:
        args.json_out.write_text(json.dumps(run_worker(args)))
        return 0
    if args.only:
        figures = run_side(args)
        print(show(figures), flush=True)
        if args.json_out:
            args.json_out.write_text(json.dumps(asdict(figures)))
        return 0 if figures.delivered == figures.jobs else 1
    print(f"Load benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs: "
          f"{args.jobs} jobs of {args.job_seconds:g} s +-{args.jitter:.0%}, poll every "
          f"{args.interval:g} s (ours: first after {args.first_delay:g} s), "
          f"{args.video_mb:g} MB videos, SDK download {args.sdk_download}", flush=True)
    ours = child(args, "ours", argv)
    sdk = child(args, "sdk", argv)
    floor = None if args.no_floor else child(args, "floor", argv)
    if ours is None:
        return 1
    print(compare(args, ours, sdk, floor), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
