"""Ours in several processes at once (`--processes N`): the jobs split among N processes that
share one stand-in and one database (a SQLite file or PostgreSQL), as a deployment with
several bot processes would.

Each process runs the one-process side (`sides.run_ours` through `sides.measure_here`) on its
share of the jobs; the schema is migrated once before they start, so they do not race
migrations, and a barrier lets all of them begin submitting at the same moment, once each has
opened its runtime. Their figures are merged as if they were one run: wall time from the first
submit to the last delivery over all of them, CPU time summed, peak RSS the worst process's,
loop stalls and first answers over the pooled samples of all processes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.measure import percentile
from benchmarks.sides import Context, Deliveries, Figures, measure_here, store_settings

START_TIMEOUT = 300.0  # seconds for every process to open its runtime (a loaded machine)


def run_processes(args: argparse.Namespace, base_url: str, workdir: Path, figures: Figures,
                  deliveries: Deliveries) -> None:
    """Ours' `args.jobs` jobs across `args.processes` processes; their merged figures into
    `figures` and `deliveries`."""
    from bot.settings import Settings

    count = args.processes
    shares = [args.jobs // count + (n < args.jobs % count) for n in range(count)]
    firsts = [sum(shares[:n]) for n in range(count)]
    # Migrate once before the race, as a deployment's first process would.
    asyncio.run(_migrate(Settings(**store_settings(args.db, workdir)).database))
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as the one-process run is
    barrier = spawn.Barrier(count)
    outs = [workdir / f"process{n}.json" for n in range(count)]
    procs = [spawn.Process(target=_process, name=f"ours-{n}", args=(
        argparse.Namespace(**{**vars(args), "jobs": share}), base_url, workdir, first, barrier, out))
        for n, (share, first, out) in enumerate(zip(shares, firsts, outs))]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    results = [json.loads(out.read_text()) for out in outs if out.exists()]
    failed = [f"{proc.name} (exit {proc.exitcode})" for proc in procs if proc.exitcode != 0]
    if failed:
        figures.errors.append(f"{len(failed)} of {count} processes failed: {', '.join(failed)}")
    if results:
        _merge(figures, deliveries, results)


async def _migrate(target: str | Path) -> None:
    from storage.store import Store

    await (await Store.open(target)).aclose()


def _process(args: argparse.Namespace, base_url: str, workdir: Path, first_job: int,
             barrier: Any, out: Path) -> None:
    """One of the processes: its share of the jobs, then its figures and raw samples to `out`."""
    figures = Figures(side="ours", jobs=args.jobs, tls=args.cafile is not None)
    deliveries = Deliveries(int(args.video_mb * 1_000_000), args.delete)
    ctx = Context(args, base_url, workdir, figures, deliveries, args.cafile, first_job=first_job,
                  start_together=lambda: barrier.wait(START_TIMEOUT))
    try:
        measure_here(ctx)
    except BaseException:
        barrier.abort()  # the others stop waiting for this one
        raise
    assert ctx.ticker is not None
    out.write_text(json.dumps({
        "figures": asdict(figures), "began": ctx.began, "at": deliveries.at, "seen": deliveries.seen,
        "bad_size": deliveries.bad_size, "stalls": ctx.stalls.late, "answers": ctx.ticker.latencies,
        "big_stalls": [(ctx.began + at, late) for at, late in ctx.stalls.big],  # wall clock
    }))


def _merge(figures: Figures, deliveries: Deliveries, results: list[dict[str, Any]]) -> None:
    parts = [Figures(**r["figures"]) for r in results]
    began = min(r["began"] for r in results)
    figures.wall_s = max(r["began"] + f.wall_s for r, f in zip(results, parts)) - began
    figures.cpu_user_s = sum(f.cpu_user_s for f in parts)
    figures.cpu_sys_s = sum(f.cpu_sys_s for f in parts)
    figures.probe_cpu_s = sum(f.probe_cpu_s for f in parts)
    figures.cpu_s = figures.cpu_user_s + figures.cpu_sys_s - figures.probe_cpu_s
    figures.peak_rss_mb = max(f.peak_rss_mb for f in parts)
    figures.start_rss_mb = max(f.start_rss_mb for f in parts)
    figures.client_requests_per_job = sum(f.client_requests_per_job * f.jobs for f in parts) / figures.jobs
    figures.failed += sum(f.failed for f in parts)
    figures.errors += [e for f in parts for e in f.errors]
    figures.notes = sorted({n for f in parts for n in f.notes})
    stalls = [late for r in results for late in r["stalls"]]
    figures.stall_p99_ms = 1000 * percentile(stalls, 99)
    figures.stall_max_ms = 1000 * max(stalls, default=math.nan)
    answers = [late for r in results for late in r["answers"]]
    figures.answer_p99_ms = 1000 * percentile(answers, 99)
    figures.answer_max_ms = 1000 * max(answers, default=math.nan)
    figures.big_stalls = sorted((round(at - began, 2), round(late, 3))
                                for r in results for at, late in r["big_stalls"])
    for r in results:
        deliveries.at.update(r["at"])
        deliveries.seen.update(r["seen"])
        deliveries.bad_size += r["bad_size"]
