"""Which x264 preset `bot.transcode.shrink` should use, by measurement.

    .venv/bin/python benchmarks/encoders.py [--clip-seconds 10] [--repeat 3]
    make bench-encoders ARGS="--clip-seconds 20"

Two 1080p clips are made with the bundled ffmpeg: **noise** (`benchmarks.media.make_clip`,
the load benchmark's clip: testsrc2 under temporal noise, the worst case for x264) and
**fractal** (ffmpeg's `mandelbrot` source zooming in: fine detail, smooth gradients and
steady motion, nearer what a generated video asks of an encoder). Each is encoded once per
preset and round with the arguments of `bot.transcode.encode_args`, the ones `shrink()` runs
on its first attempt, through `bot.transcode.run_ffmpeg` (niced, as in production). The
limit is Discord's 10 MiB for a 20-s clip, scaled with the clip's length, so a shorter clip
gets the bitrate, width and audio a 20-s clip gets against 10 MiB.

Per preset and clip: the CPU seconds of the ffmpeg child (user + system, from
`RUSAGE_CHILDREN` around the run) and its wall seconds, median [min-max] over the rounds
(the presets take turns within each round, so the machine's drift hits them alike); the
output's size and whether it fits on the first attempt; and SSIM against the source (the
output scaled back to 1920x1080, ffmpeg's `ssim` filter, its "All:" figure; x264 is
deterministic, so it is computed once, from the first round).

The rule: **the preset with the least CPU (summed over both clips) whose output fits the
limit on the first attempt and whose SSIM is at most 0.01 below veryfast's, on every clip.**
Then the chosen preset is run with a fixed `-threads` (1 and 2): a fixed count replaces
x264's default only if it saves at least 10 % of the CPU without costing more than 10 % of
the wall time (one ffmpeg runs per two cores, so a member waits for its wall time).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a plain `python benchmarks/encoders.py` finds bot/

from benchmarks.media import DISCORD_LIMIT, make_clip  # noqa: E402
from bot import transcode  # noqa: E402

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
REFERENCE = "veryfast"
SSIM_TOLERANCE = 0.01
THREADS_GAIN = 0.10        # a fixed -threads must save this share of CPU ...
THREADS_WALL_COST = 0.10   # ... and cost at most this share of wall time
SOURCE_SIZE = (1920, 1080)
_SSIM_ALL = re.compile(rb"All:(\d+(?:\.\d+)?)")


@dataclass
class Run:
    clip: str
    preset: str
    threads: int | None = None
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    size: int = 0
    fits: bool = False
    ssim: float = float("nan")

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_s)

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_s)


def make_fractal_clip(dest: Path, seconds: float) -> None:
    """A 1080p30 zoom into the Mandelbrot set with a tone, kept near-lossless (CRF 16) so
    the SSIM measures the shrinking, not the source's own artefacts."""
    subprocess.run(
        [transcode.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"mandelbrot=size=1920x1080:rate=30,trim=duration={seconds:g}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds:g}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-shortest", str(dest)],
        check=True)


def encode(src: Path, dest: Path, limit: int, seconds: float, preset: str,
           threads: int | None) -> tuple[float, float]:
    """One first attempt of `shrink()`: (CPU seconds of ffmpeg, wall seconds)."""
    args = transcode.encode_args(src, dest, limit, seconds, 0, preset, threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code, err = asyncio.run(transcode.run_ffmpeg(*args, timeout=600))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise RuntimeError(f"ffmpeg failed ({preset}): {err.decode(errors='replace')[-500:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall


def ssim(output: Path, source: Path) -> float:
    """SSIM of `output`, scaled back to the source's size, against `source`."""
    width, height = SOURCE_SIZE
    done = subprocess.run(
        [transcode.ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(output), "-i", str(source),
         "-lavfi", f"[0:v]scale={width}:{height}:flags=bicubic[out];[out][1:v]ssim",
         "-f", "null", "-"],
        capture_output=True, check=True)
    hits = _SSIM_ALL.findall(done.stderr)
    if not hits:
        raise RuntimeError(f"no SSIM in ffmpeg's output: {done.stderr[-500:]!r}")
    return float(hits[-1])


def measure(runs: list[Run], clips: dict[str, Path], limit: int, seconds: float, repeat: int,
            work: Path) -> None:
    for round_ in range(repeat):
        for run in runs:
            src = clips[run.clip]
            dest = work / f"{run.clip}-{run.preset}-{run.threads}.mp4"
            cpu, wall = encode(src, dest, limit, seconds, run.preset, run.threads)
            run.cpu_s.append(cpu)
            run.wall_s.append(wall)
            if round_ == 0:
                run.size = dest.stat().st_size
                run.fits = run.size <= limit
                run.ssim = ssim(dest, src)
            dest.unlink()
        print(f"  round {round_ + 1}/{repeat} done", file=sys.stderr, flush=True)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} [{min(values):.2f}-{max(values):.2f}]"


def table(runs: list[Run]) -> str:
    head = ("clip", "preset", "threads", "CPU s median [min-max]", "wall s median [min-max]",
            "size MB", "fits", "SSIM")
    rows = [head] + [(r.clip, r.preset, str(r.threads or "auto"), _spread(r.cpu_s),
                      _spread(r.wall_s), f"{r.size / 1e6:.2f}", "yes" if r.fits else "NO",
                      f"{r.ssim:.4f}") for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                     for row in rows)


def pick_preset(runs: list[Run], clips: list[str], presets: list[str]) -> tuple[str, str]:
    """The rule of the docstring: (preset, why)."""
    by = {(r.clip, r.preset): r for r in runs if r.threads is None}
    eligible = [p for p in presets
                if all(by[c, p].fits and by[c, p].ssim >= by[c, REFERENCE].ssim - SSIM_TOLERANCE
                       for c in clips)]
    if not eligible:
        return REFERENCE, "no preset fits with veryfast's quality; keeping veryfast"
    best = min(eligible, key=lambda p: sum(by[c, p].cpu for c in clips))
    cpu = sum(by[c, best].cpu for c in clips)
    ref_cpu = sum(by[c, REFERENCE].cpu for c in clips)
    ssims = ", ".join(f"{c} {by[c, best].ssim:.4f} (veryfast {by[c, REFERENCE].ssim:.4f})"
                      for c in clips)
    return best, (f"{best}: CPU {cpu:.2f} s for both clips against veryfast's {ref_cpu:.2f} s "
                  f"({cpu / ref_cpu - 1:+.0%}); SSIM {ssims}; fits on the first attempt")


def pick_threads(runs: list[Run], preset: str, clips: list[str]) -> tuple[int | None, str]:
    def total(threads: int | None, what: str) -> float:
        return sum(getattr(r, what) for r in runs
                   if r.preset == preset and r.threads == threads and r.clip in clips)

    cpu0, wall0 = total(None, "cpu"), total(None, "wall")
    notes, choice = [], None
    for threads in sorted({r.threads for r in runs if r.threads is not None}):
        cpu, wall = total(threads, "cpu"), total(threads, "wall")
        notes.append(f"-threads {threads}: CPU {cpu / cpu0 - 1:+.0%}, wall {wall / wall0 - 1:+.0%}")
        if cpu <= cpu0 * (1 - THREADS_GAIN) and wall <= wall0 * (1 + THREADS_WALL_COST):
            choice = threads if choice is None else choice
    verdict = f"-threads {choice}" if choice is not None else "x264's default threads"
    return choice, f"{verdict} (against the default: {'; '.join(notes) or 'not measured'})"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clip-seconds", type=float, default=10.0,
                        help="length of each test clip (default 10; the limit scales with it)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"x264 presets to compare (default all; {REFERENCE} is always run)")
    parser.add_argument("--threads", default="1,2",
                        help="fixed -threads to try with the chosen preset (default 1,2; '' none)")
    args = parser.parse_args(argv)
    if unknown := set(args.presets.split(",")) - set(PRESETS):
        parser.error(f"unknown presets: {', '.join(sorted(unknown))}")
    return args


def _header(clips: dict[str, Path], limit: int, seconds: float, repeat: int,
            minutes: float) -> str:
    version = subprocess.run([transcode.ffmpeg_exe(), "-version"], capture_output=True,
                             text=True, check=True).stdout.split(" Copyright")[0]
    first = transcode.encode_args(clips["noise"], Path("out.mp4"), limit, seconds, 0)
    sizes = ", ".join(f"{c} {seconds:g} s 1920x1080 ({p.stat().st_size / 1e6:.1f} MB)"
                      for c, p in clips.items())
    return (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {version}, {repeat} round(s), "
            f"{minutes:.1f} min in all\nclips: {sizes}\n"
            f"limit {limit / 2**20:.2f} MiB (10 MiB per 20 s); the first attempt's arguments: "
            + " ".join(first[first.index("-vf"):-1]))


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    seconds, began = args.clip_seconds, time.perf_counter()
    limit = int(DISCORD_LIMIT * seconds / 20)
    work = Path(tempfile.mkdtemp(prefix="sora-bench-enc-"))
    try:
        clips = {"noise": work / "noise.mp4", "fractal": work / "fractal.mp4"}
        print("making the clips ...", file=sys.stderr, flush=True)
        make_clip(clips["noise"], seconds)
        make_fractal_clip(clips["fractal"], seconds)
        names = list(clips)
        presets = [p for p in PRESETS if p in args.presets.split(",") or p == REFERENCE]
        runs = [Run(c, p) for c in names for p in presets]
        measure(runs, clips, limit, seconds, args.repeat, work)
        preset, why = pick_preset(runs, names, presets)
        extra = [Run(c, preset, int(t)) for t in args.threads.split(",") if t for c in names]
        if extra:
            print(f"threads with {preset} ...", file=sys.stderr, flush=True)
            measure(extra, clips, limit, seconds, args.repeat, work)
        _, threads_why = pick_threads(runs + extra, preset, names)
        minutes = (time.perf_counter() - began) / 60
        print(_header(clips, limit, seconds, args.repeat, minutes))
        print(table(runs + extra))
        print(f"verdict: {why}")
        print(f"threads: {threads_why}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
