"""Load benchmark: N concurrent Sora jobs through our engine, the openai SDK, and two floors;
then the media costs after a video is made (shrinking for Discord, uploading to Slack).

Every run goes against the local APIMaster stand-in in its own process (benchmarks/
standin.py: HTTP, or HTTPS with a certificate made at run time), with poll timings scaled
down (tasks of ~3 s +-50 %, a 1 s poll interval) and 20 MB videos. Each run happens in a
child process of its own, so RSS and CPU time belong to that run alone; the runs are
interleaved (ours, sdk, floor, oracle, ours, ...) so a drift of the shared machine hits every
side alike, and this parent prints the median [min-max] of each figure, the ratios and the
targets (benchmarks/README.md).

    .venv/bin/python benchmarks/load.py                  # or: make bench
    .venv/bin/python benchmarks/load.py --jobs 50 --repeat 1 --tls
    .venv/bin/python benchmarks/load.py --sides ours --processes 4 --db postgresql

Not a test: figures depend on the machine.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a plain `python benchmarks/load.py` finds bot/ and benchmarks/

from benchmarks import report  # noqa: E402
from benchmarks.media import MediaFigures, make_clip, run_media  # noqa: E402
from benchmarks.sides import SIDES, Figures, run_side  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=500, help="concurrent jobs (default 500)")
    p.add_argument("--repeat", type=int, default=2,
                   help="rounds of interleaved runs; medians and min-max over them (default 2: "
                        "with the pacer on, one 500-job round takes ~4.5 minutes on 2 cores)")
    p.add_argument("--sides", default=",".join(SIDES),
                   help=f"which sides, in round order (default {','.join(SIDES)})")
    p.add_argument("--tls", action="store_true",
                   help="the HTTPS variant: the stand-in serves TLS with a self-signed certificate "
                        "made at run time, which every client trusts")
    p.add_argument("--delete", action="store_true",
                   help="delete each video once delivered (default: keep them, as production does, "
                        "in a temporary folder removed after each run)")
    p.add_argument("--db", default="",
                   help="our engine's SORA_DB: 'postgresql' for a fresh database per run on a "
                        "throwaway PostgreSQL cluster started here (Debian's postgresql package, as "
                        "the tests start it), a postgresql:// URL of a database the runs may write "
                        "to, or a SQLite path (default: a SQLite file in each run's temporary folder)")
    p.add_argument("--processes", type=int, default=1,
                   help="ours' jobs split across this many processes started together, sharing the "
                        "stand-in and the database (default 1; the other sides run in one process)")
    p.add_argument("--job-seconds", type=float, default=3.0, help="stand-in task length (default 3)")
    p.add_argument("--jitter", type=float, default=0.5, help="+- fraction of the task length (default 0.5)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="poll interval, seconds; also the stand-in's openai-poll-after-ms hint (default 1)")
    p.add_argument("--first-delay", type=float, default=1.0,
                   help="our engine's first poll delay, seconds (default 1; the SDK polls at once)")
    p.add_argument("--video-mb", type=float, default=20.0, help="video size in MB (default 20)")
    p.add_argument("--shrinks", type=int, default=4,
                   help="clips over Discord's 10 MiB limit shrunk at once (default 4; 0: skip)")
    p.add_argument("--clip-seconds", type=float, default=20.0,
                   help="length of the 1080p clip to shrink (default 20)")
    p.add_argument("--uploads", type=int, default=32,
                   help="Slack uploads at once, compared with one upload (default 32; 0: skip)")
    p.add_argument("--mem-cap-gb", type=float, default=8.0,
                   help="address-space cap for each run, so a runaway run fails instead of swapping")
    # Used between this parent and its children:
    p.add_argument("--only", choices=(*SIDES, "shrink", "uploads"), help=argparse.SUPPRESS)
    p.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--cafile", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = set(args.sides.split(",")) - set(SIDES)
    if unknown:
        p.error(f"unknown side(s) {', '.join(sorted(unknown))}; choose among {', '.join(SIDES)}")
    if not 1 <= args.processes <= args.jobs:
        p.error(f"--processes must be between 1 and --jobs ({args.jobs})")
    return args


# -- the children ------------------------------------------------------------------------


def child_main(args: argparse.Namespace) -> int:
    """One run, in this process: a side of the load benchmark or a media scenario."""
    if args.only in SIDES:
        figures: Any = run_side(args)
        ok = figures.delivered == figures.jobs
    else:
        figures = run_media(args)
        ok = figures.ok == figures.count
    if args.json_out:
        args.json_out.write_text(json.dumps(asdict(figures)))
    return 0 if ok else 1


def child(argv: list[str], extra: list[str], env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Run this script as a child with `extra` arguments; its figures, or None if it failed."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), *argv, *extra, "--json-out", str(out)]
        code = subprocess.run(cmd, check=False, env=env).returncode
        if not out.stat().st_size:
            print(f"  {' '.join(extra)}: the run failed (exit {code})", flush=True)
            return None
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


@contextlib.contextmanager
def databases(args: argparse.Namespace) -> Iterator[Callable[[], list[str]]]:
    """What each run of ours adds to its command line: nothing (its `--db` stands), or with
    `--db postgresql` a fresh database on a PostgreSQL cluster started for this benchmark as
    the tests start theirs (tests/postgres.py: 127.0.0.1 only, fsync off), removed at the end."""
    if args.db != "postgresql" or "ours" not in args.sides.split(","):
        yield lambda: []
        return
    from tests import postgres

    with postgres.running() as server:
        print(f"  PostgreSQL from {postgres.binaries()} on 127.0.0.1:{server.port}, "
              f"a fresh database for each run of ours", flush=True)
        yield lambda: ["--db", server.new_database()]


def load_rounds(args: argparse.Namespace, argv: list[str], certdir: Path | None,
                db_args: Callable[[], list[str]]) -> dict[str, list[Figures]]:
    """`--repeat` rounds of every side, interleaved: ours, sdk, floor, oracle, ours, ..."""
    extra: list[str] = []
    env = dict(os.environ)
    if certdir is not None:
        extra = ["--cafile", str(certdir / "cert.pem")]
        # Our engine builds its own aiohttp session; aiohttp's default SSL context reads the
        # trusted roots at import, and SSL_CERT_FILE is how a deployment adds a private CA.
        env["SSL_CERT_FILE"] = str(certdir / "cert.pem")
    runs: dict[str, list[Figures]] = {side: [] for side in args.sides.split(",")}
    for round_no in range(1, args.repeat + 1):
        for side in runs:
            own = db_args() if side == "ours" else []
            data = child(argv, ["--only", side, *extra, *own], env)
            if data is not None:
                runs[side].append(Figures(**data))
                print(report.progress_line(round_no, args.repeat, runs[side][-1]), flush=True)
    return runs


def media_runs(args: argparse.Namespace, argv: list[str], workdir: Path) -> list[MediaFigures]:
    results: list[MediaFigures] = []
    if args.shrinks > 0:
        clip = workdir / "oversized.mp4"
        make_clip(clip, args.clip_seconds)
        data = child(argv, ["--only", "shrink", "--count", str(args.shrinks), "--clip", str(clip)])
        if data is not None:
            results.append(MediaFigures(**data))
            print(report.media_line(results[-1]), flush=True)
    if args.uploads > 0:
        for count in (1, args.uploads):
            data = child(argv, ["--only", "uploads", "--count", str(count)])
            if data is not None:
                results.append(MediaFigures(**data))
                print(report.media_line(results[-1]), flush=True)
    return results


# -- the parent --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.only:
        return child_main(args)
    print(report.header(args), flush=True)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sora-bench-") as tmp:
        workdir = Path(tmp)
        certdir = None
        if args.tls:
            from benchmarks.tls import self_signed

            self_signed(workdir)
            certdir = workdir
        with contextlib.ExitStack() as stack:
            try:
                db_args = stack.enter_context(databases(args))
            except RuntimeError as exc:  # PostgreSQL cannot start here: say why, in one line
                print(f"--db postgresql: {exc}", file=sys.stderr)
                return 2
            runs = load_rounds(args, argv, certdir, db_args)
        media = media_runs(args, argv, workdir)
    print(report.summary(args, runs, media, time.monotonic() - began), flush=True)
    return 0 if runs.get("ours") else 1


if __name__ == "__main__":
    sys.exit(main())
