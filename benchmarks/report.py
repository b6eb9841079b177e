"""What the benchmark prints: a line per run as it ends, then medians, ratios and targets."""
from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

from benchmarks.media import DISCORD_LIMIT, MediaFigures
from benchmarks.sides import Figures

# The targets of issue 15 (benchmarks/README.md says why each is what it is).
CPU_VS_FLOOR = 1.25      # ours' CPU per job <= this x the bare-aiohttp floor's
LAG_VS_ORACLE = 1.2      # ours' lag p99 <= this x the oracle floor's
STALL_P99_MS = 50.0      # event-loop stall p99 < this, with files kept
STALL_MAX_MS = 150.0     # and its max < this
ANSWER_P99_MS = 100.0    # first answer to an interaction while the jobs run
UPLOADS_ABOVE_IDLE_MB = 100.0  # N Slack uploads at once, peak RSS above idle


def header(args: argparse.Namespace) -> str:
    scheme = "HTTPS (self-signed, trusted)" if args.tls else "HTTP"
    files = "deleted once delivered" if args.delete else "kept (as in production)"
    return (f"Load benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs: "
            f"{args.jobs} jobs of {args.job_seconds:g} s +-{args.jitter:.0%}, poll every "
            f"{args.interval:g} s (ours: first after {args.first_delay:g} s), "
            f"{args.video_mb:g} MB videos over {scheme}, files {files}; "
            f"{args.repeat} round(s) of {args.sides.replace(',', ', ')}, interleaved; "
            f"ours {ours_setup(args)}")


def ours_setup(args: argparse.Namespace) -> str:
    """How many processes ours runs in, on which database (a URL's password never shown)."""
    from storage.backends import is_postgres, redacted

    if args.db == "postgresql":
        db = ("one PostgreSQL database (a fresh one per run, on a throwaway cluster on 127.0.0.1 "
              "with fsync off)")
    elif is_postgres(args.db):
        db = f"the PostgreSQL database {redacted(args.db)}"
    else:
        db = f"the SQLite file {args.db}" if args.db else "one SQLite file (in the run's temporary folder)"
    if args.processes == 1:
        return f"in 1 process on {db}"
    return f"in {args.processes} processes started together, sharing one stand-in and {db}"


def progress_line(round_no: int, rounds: int, f: Figures) -> str:
    extra = f", first answer p99 {f.answer_p99_ms:.0f} ms" if f.side == "ours" else ""
    return (f"  round {round_no}/{rounds} {f.side:<6} {f.delivered}/{f.jobs} delivered, "
            f"wall {f.wall_s:6.1f} s, lag p50/p99 {f.lag_p50_s:6.2f}/{f.lag_p99_s:6.2f} s, "
            f"{f.requests_per_job:.2f} req/job, CPU {f.cpu_ms_per_job:5.1f} ms/job, "
            f"RSS {f.peak_rss_mb:5.0f} MB, stall p99/max {f.stall_p99_ms:.0f}/{f.stall_max_ms:.0f} ms"
            + extra)


def media_line(m: MediaFigures) -> str:
    if m.scenario == "shrink":
        return (f"  shrink {m.count} x {m.source_mb:.1f} MB at once: {m.ok}/{m.count} fit, wall "
                f"{m.wall_s:.1f} s, CPU {m.cpu_s:.1f} s, peak RSS {m.peak_rss_mb:.0f} MB (with "
                f"ffmpeg), {m.most_at_once} ffmpeg at once, stall p99/max "
                f"{m.stall_p99_ms:.0f}/{m.stall_max_ms:.0f} ms")
    return (f"  uploads {m.count} x {m.source_mb:.0f} MB at once: {m.ok}/{m.count} ok, wall "
            f"{m.wall_s:.1f} s, peak RSS {m.above_idle_mb:.0f} MB above idle "
            f"({m.idle_rss_mb:.0f} MB), stall p99/max {m.stall_p99_ms:.0f}/{m.stall_max_ms:.0f} ms")


# -- the summary -------------------------------------------------------------------------


def median(runs: list[Figures], get: Callable[[Figures], float]) -> float:
    values = [v for v in map(get, runs) if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def cell(runs: list[Figures], get: Callable[[Figures], float], fmt: str) -> str:
    values = [v for v in map(get, runs) if not math.isnan(v)]
    if not values:
        return "-"
    mid = format(statistics.median(values), fmt)
    if len(values) == 1:
        return mid
    return f"{mid} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


ROWS: list[tuple[str, Callable[[Figures], float], str]] = [
    ("jobs delivered", lambda f: f.delivered, ".0f"),
    ("wall time, s", lambda f: f.wall_s, ".1f"),
    ("lag p50, s", lambda f: f.lag_p50_s, ".2f"),
    ("lag p99, s", lambda f: f.lag_p99_s, ".2f"),
    ("  ready -> download p99, s", lambda f: f.seen_p99_s, ".2f"),
    ("  download p99, s", lambda f: f.download_p99_s, ".2f"),
    ("requests per job", lambda f: f.requests_per_job, ".2f"),
    ("  TLS handshakes per job", lambda f: f.handshakes_per_job, ".2f"),
    ("peak RSS, MB", lambda f: f.peak_rss_mb, ".0f"),
    ("CPU per job, ms", lambda f: f.cpu_ms_per_job, ".1f"),
    ("  of which sys, ms", lambda f: 1000 * f.cpu_sys_s / f.jobs, ".1f"),
    ("  probes left out, ms", lambda f: 1000 * f.probe_cpu_s / f.jobs, ".1f"),
    ("loop stall p99, ms", lambda f: f.stall_p99_ms, ".1f"),
    ("loop stall max, ms", lambda f: f.stall_max_ms, ".0f"),
    ("first answer p99, ms", lambda f: f.answer_p99_ms, ".1f"),
]


def table(runs: dict[str, list[Figures]]) -> list[str]:
    sides = [s for s, r in runs.items() if r]
    width = 24
    lines = [f"{'median [min-max]':<28}" + "".join(f"{s:>{width}}" for s in sides)]
    for label, get, fmt in ROWS:
        lines.append(f"{label:<28}" + "".join(f"{cell(runs[s], get, fmt):>{width}}" for s in sides))
    return lines


def ratios(runs: dict[str, list[Figures]]) -> list[str]:
    ours = runs.get("ours") or []
    others = [s for s in ("sdk", "floor", "oracle") if runs.get(s)]
    if not ours or not others:
        return []
    lines = ["ratios of medians" + "".join(f"{'ours/' + s:>14}" for s in others)]
    for label, get in (("wall time", lambda f: f.wall_s), ("lag p50", lambda f: f.lag_p50_s),
                       ("lag p99", lambda f: f.lag_p99_s),
                       ("requests per job", lambda f: f.requests_per_job),
                       ("peak RSS", lambda f: f.peak_rss_mb), ("CPU per job", lambda f: f.cpu_ms_per_job),
                       ("loop stall p99", lambda f: f.stall_p99_ms)):
        row = f"  {label:<15}"
        for s in others:
            base = median(runs[s], get)
            row += f"{median(ours, get) / base if base else math.nan:13.2f}x"
        lines.append(row)
    return lines


def verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else "PASS" if ok else "MISS"


def targets(args: argparse.Namespace, runs: dict[str, list[Figures]], media: list[MediaFigures]) -> list[str]:
    ours = runs.get("ours") or []
    out = ["targets"]
    if ours:
        out += _load_targets(args, runs, ours)
    out += _media_targets(media)
    return out


def _load_targets(args: argparse.Namespace, runs: dict[str, list[Figures]], ours: list[Figures]) -> list[str]:
    out = []
    all_done = all(f.delivered == f.jobs and f.failed == 0 and f.bad_size == 0 for f in ours)
    out.append(f"  [{verdict(all_done)}] every job delivered once, in every run of ours")
    cpu = median(ours, lambda f: f.cpu_ms_per_job)
    if runs.get("floor"):
        floor = median(runs["floor"], lambda f: f.cpu_ms_per_job)
        out.append(f"  [{verdict(cpu <= CPU_VS_FLOOR * floor)}] CPU per job {cpu:.1f} ms <= "
                   f"{CPU_VS_FLOOR} x the aiohttp floor's {floor:.1f} ms = {CPU_VS_FLOOR * floor:.1f} ms "
                   f"(ratio {cpu / floor:.2f})")
    lag = median(ours, lambda f: f.lag_p99_s)
    if runs.get("oracle"):
        oracle = median(runs["oracle"], lambda f: f.lag_p99_s)
        out.append(f"  [{verdict(lag <= LAG_VS_ORACLE * oracle)}] lag p99 {lag:.2f} s <= "
                   f"{LAG_VS_ORACLE} x the oracle floor's {oracle:.2f} s = {LAG_VS_ORACLE * oracle:.2f} s "
                   f"(ratio {lag / oracle:.2f})")
        out.append(f"         of which ready -> download began p99 "
                   f"{median(ours, lambda f: f.seen_p99_s):.2f} s (oracle "
                   f"{median(runs['oracle'], lambda f: f.seen_p99_s):.2f} s)")
    p99, worst = median(ours, lambda f: f.stall_p99_ms), median(ours, lambda f: f.stall_max_ms)
    kept = "deleted (--delete)" if args.delete else "kept"
    out.append(f"  [{verdict(p99 < STALL_P99_MS)}] loop stall p99 {p99:.1f} ms < {STALL_P99_MS:.0f} ms, "
               f"files {kept}")
    out.append(f"  [{verdict(worst < STALL_MAX_MS)}] loop stall max {worst:.0f} ms < {STALL_MAX_MS:.0f} ms, "
               f"files {kept}")
    answer = median(ours, lambda f: f.answer_p99_ms)
    out.append(f"  [{verdict(answer < ANSWER_P99_MS)}] first answer p99 {answer:.1f} ms < "
               f"{ANSWER_P99_MS:.0f} ms while {args.jobs} jobs run (max "
               f"{median(ours, lambda f: f.answer_max_ms):.0f} ms)")
    if runs.get("sdk"):
        ours_req = median(ours, lambda f: f.requests_per_job)
        sdk_req = median(runs["sdk"], lambda f: f.requests_per_job)
        out.append(f"  [{verdict(ours_req <= sdk_req)}] requests per job {ours_req:.2f} <= the SDK's "
                   f"{sdk_req:.2f}, both with {_downloads_bound()} downloads at once")
    return out


def _media_targets(media: list[MediaFigures]) -> list[str]:
    out = []
    shrinks = [m for m in media if m.scenario == "shrink"]
    for m in shrinks:
        bound = _transcode_bound()
        out.append(f"  [{verdict(m.most_at_once <= bound)}] {m.count} shrinks at once: "
                   f"{m.most_at_once} ffmpeg ran together <= {bound} (one per two cores); "
                   f"CPU {m.cpu_s / m.count:.1f} s and wall {m.wall_s:.1f} s for the {m.count}, "
                   f"peak RSS {m.peak_rss_mb:.0f} MB with ffmpeg")
        out.append(f"  [{verdict(m.stall_p99_ms < STALL_P99_MS and m.stall_max_ms < STALL_MAX_MS)}] "
                   f"loop stall while shrinking p99 {m.stall_p99_ms:.1f} ms < {STALL_P99_MS:.0f}, "
                   f"max {m.stall_max_ms:.0f} ms < {STALL_MAX_MS:.0f}")
        out.append(f"  [{verdict(m.ok == m.count)}] {m.ok}/{m.count} shrunk under "
                   f"{DISCORD_LIMIT / 2**20:.0f} MiB")
    uploads = sorted((m for m in media if m.scenario == "uploads"), key=lambda m: m.count)
    if len(uploads) == 2:
        one, many = uploads
        per_upload = (many.above_idle_mb - one.above_idle_mb) / max(1, many.count - one.count)
        flat = many.above_idle_mb < UPLOADS_ABOVE_IDLE_MB and many.ok == many.count
        out.append(f"  [{verdict(flat)}] RSS flat in the number of uploads: {many.count} at once "
                   f"{many.above_idle_mb:.0f} MB above idle < {UPLOADS_ABOVE_IDLE_MB:.0f} MB "
                   f"(1 upload: {one.above_idle_mb:.0f} MB; {per_upload:.1f} MB per extra upload); "
                   f"loop stall max {many.stall_max_ms:.0f} ms")
    return out


def _downloads_bound() -> int:
    from bot.settings import Settings

    return Settings().max_parallel_downloads


def _transcode_bound() -> int:
    """SORA_MAX_TRANSCODES as issue 15 sets it (one ffmpeg per two cores), or the setting
    itself once the engine has it."""
    from bot.settings import Settings

    default = max(1, (os.cpu_count() or 2) // 2)
    return int(getattr(Settings(), "max_transcodes", default) or default)


def summary(args: argparse.Namespace, runs: dict[str, list[Figures]], media: list[MediaFigures],
            took: float) -> str:
    lines = ["", f"{args.jobs} jobs, {'HTTPS' if args.tls else 'HTTP'}, files "
             f"{'deleted' if args.delete else 'kept'}, {args.repeat} round(s), {took / 60:.1f} min in all; "
             f"ours {ours_setup(args)}"]
    lines += table(runs) + [""] + ratios(runs) + [""] + targets(args, runs, media)
    lines.append("notes")
    for side, rs in runs.items():
        errors = [e for f in rs for e in f.errors]
        notes = sorted({n for f in rs for n in f.notes})
        lines += [f"  {side}: {n}" for n in notes]
        for i, f in enumerate(rs, 1):
            if f.big_stalls:
                shown = ", ".join(f"{1000 * late:.0f} ms at {at:.1f} s" for at, late in f.big_stalls[:8])
                more = f" and {len(f.big_stalls) - 8} more" if len(f.big_stalls) > 8 else ""
                lines.append(f"  {side} round {i}: {len(f.big_stalls)} stall(s) over 100 ms "
                             f"(seconds after the first submit): {shown}{more}")
        lines += [f"  {side} error: {e}" for e in errors[:5]]
        if len(errors) > 5:
            lines.append(f"  {side}: ... and {len(errors) - 5} more errors")
    for m in media:
        lines += [f"  {m.scenario} error: {e}" for e in m.errors[:3]]
    return "\n".join(lines)
