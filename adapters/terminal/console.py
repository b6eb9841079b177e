"""The console adapter: `sora-bot run` with no chat tokens. Type a prompt, get a video."""
from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from adapters import stand_in
from adapters.terminal import cli
from bot.errors import SoraError
from bot.models import Job, Progress, Requester, usd
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "console"
HELP = """Type a prompt to make a video, with the same options as `sora-bot generate`:
  a waterfall forming a rainbow --duration 8 --aspect 9:16
Commands: usage, jobs, help, quit"""


class ConsoleEvents:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def accepted(self, job: Job) -> None:
        pass  # the prompt already answered "Started ...: cost"

    async def progress(self, job: Job, progress: Progress) -> None:
        self.say(f"[{job.id}] {progress.describe()}")

    async def completed(self, job: Job, video: Path) -> None:
        if job.moved_from:
            self.say(f"[{job.id}] made by {job.request.model}: {job.moved_from} is not "
                     f"available upstream ({usd(job.cost_micros)})")
        self.say(f"[{job.id}] done: {video}")

    async def failed(self, job: Job, error: SoraError) -> None:
        self.say(f"[{job.id}] failed: {error.user_message}")


def _parser(rt: Runtime) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="", add_help=False, exit_on_error=False)
    cli.add_request_options(parser, rt.settings.catalogue)
    return parser


async def serve(rt: Runtime, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    events = ConsoleEvents(out)
    rt.engine.register(PLATFORM, lambda job: events)
    requester = Requester(PLATFORM, "local", cli.default_user())
    parser = _parser(rt)
    if rt.settings.uses_stand_in:
        events.say(stand_in.NOTICE)
    resumed = await rt.engine.resume([PLATFORM])
    if resumed:
        events.say(f"Resuming {len(resumed)} unfinished job(s).")
    events.say(HELP)
    lines = _read_lines(stdin)
    while True:
        out.write("sora> ")
        out.flush()
        line = await anext(lines, "")
        if not line:  # end of input: let running jobs finish
            break
        line = line.strip()
        if line in ("quit", "exit"):
            break
        if not line:
            continue
        if line == "help":
            events.say(HELP)
        elif line == "usage":
            for text in rt.budgets.status(requester.team, requester.user).lines():
                events.say(text)
        elif line == "jobs":
            for job in rt.engine.jobs(limit=10):
                events.say(f"{job.id}  {job.status:<10} {usd(job.cost_micros):>7}  {job.request.prompt[:60]}")
        else:
            await _make(rt, parser, line, requester, events)
    pending = [j for j in rt.engine.jobs(limit=100)
               if j.status not in ("delivered", "failed") and j.requester.platform == PLATFORM]
    if pending:
        events.say(f"Waiting for {len(pending)} running job(s); Ctrl-C stops now and they "
                   "resume at the next start.")
    for job in pending:
        await rt.engine.wait(job.id)
    return 0


async def _read_lines(stdin: TextIO) -> AsyncIterator[str]:
    """Lines from stdin without a blocked thread, so Ctrl-C stops the console at once."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    except (ValueError, OSError):  # a regular file (`< prompts.txt`): plain reads are fine
        while line := stdin.readline():
            yield line
        return
    while line_bytes := await reader.readline():
        yield line_bytes.decode(errors="replace")


async def _make(rt: Runtime, parser: argparse.ArgumentParser, line: str,
                requester: Requester, events: ConsoleEvents) -> None:
    try:
        args = parser.parse_args(shlex.split(line))
    except (argparse.ArgumentError, ValueError) as exc:
        events.say(f"Could not read that: {exc}")
        return
    except SystemExit:  # argparse still exits on some errors
        events.say("Could not read that line; type help.")
        return
    try:
        accepted = await rt.engine.submit(cli.request_from(args, rt.settings.catalogue), requester, events)
    except SoraError as exc:
        events.say(exc.user_message)
        return
    left = "no limit" if accepted.left_today is None else f"{usd(accepted.left_today)} left today"
    events.say(f"Started {accepted.job.id}: {usd(accepted.job.cost_micros)} ({left}).")
