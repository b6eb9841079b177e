"""The creative loop in the terminal: confirming an expensive job, continuing from a job's
last frame (served from this process for the length of the job), stitching, pruning."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from aiohttp import web as aioweb

from adapters import web
from adapters.web.media import MediaLinks
from adapters.terminal.text import safe
from bot import library
from bot.errors import InvalidRequest, SoraError
from bot.models import Job, to_micros, usd
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_PUBLIC_URL = (
    "--continue hands the video service the last frame of {job} as an image at a public "
    "address: set PUBLIC_BASE_URL to the address at which this machine's PORT ({port}) is "
    "reachable (for example a tunnel), then run this again."
)


def confirmed(cost_micros: int, settings: Settings, yes: bool, stdin: TextIO | None = None) -> bool:
    """Whether a job costing `cost_micros` may go: below the threshold, with --yes, or when the
    person at the terminal says so. Without a terminal it refuses, saying how to confirm."""
    above = settings.confirm_above_usd
    if yes or above is None or cost_micros <= to_micros(above):
        return True
    stdin = stdin or sys.stdin
    question = (f"This video costs {usd(cost_micros)}, more than SORA_CONFIRM_ABOVE_USD "
                f"({usd(to_micros(above))}).")
    if not stdin.isatty():
        print(f"error: {question} Nothing was sent. Add --yes to confirm it.", file=sys.stderr)
        return False
    print(f"{question} Make it? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return True
    print("Cancelled; nothing was sent.", file=sys.stderr)
    return False


@contextlib.asynccontextmanager
async def serving_frame(rt: Runtime, job_id: str) -> AsyncIterator[tuple[Job, str]]:
    """The job `job_id` and a public URL of its last frame, served from this process on PORT
    while the block runs; the link is deleted after. Raises SoraError saying what to set."""
    s = rt.settings
    job = await library.find(rt.store, job_id)
    if not s.public_base_url:
        raise InvalidRequest(NO_PUBLIC_URL.format(job=job.id, port=s.port))
    job, frame = await library.last_frame(rt.store, job.id)
    links = MediaLinks(s.media_dir / "frame-links", s.public_base_url, max(s.public_link_ttl, s.job_timeout))
    url = links.publish(frame)
    app = aioweb.Application()
    links.add_routes(app)
    try:
        async with web.serving(app, s.port):
            yield job, url
    finally:
        (links.directory / url.rsplit("/", 1)[-1]).unlink(missing_ok=True)


async def stitch(rt: Runtime, job_ids: list[str], out: str) -> int:
    target = Path(out).resolve()
    try:
        await library.stitch_jobs(rt.store, rt.settings, job_ids, target)
    except SoraError as exc:
        print(f"error: {safe(exc.user_message)}", file=sys.stderr)
        return 2
    print(target)
    return 0


async def prune(rt: Runtime) -> int:
    if rt.settings.keep_videos_days is None:
        print("SORA_KEEP_VIDEOS_DAYS is not set: every video is kept. Set it to a number of "
              "days to delete older video files (the ledger keeps every job).", file=sys.stderr)
        return 0
    pruned = await library.prune(rt.store, rt.settings)
    print(f"Deleted {len(pruned)} video file(s) older than {rt.settings.keep_videos_days} "
          "day(s); the jobs and the ledger stay.")
    return 0
