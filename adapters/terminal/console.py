"""The console adapter: `sora-bot run` with no chat tokens. Type a prompt, get a video.

In a terminal it behaves like a shell: readline editing and history, commands in any case,
Ctrl-D to finish and Ctrl-C to stop. Prompts piped or redirected from a file are read the
same way, without the prompt redrawing."""
from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from adapters import stand_in
from adapters.terminal import cli
from adapters.terminal.lines import PROMPT, TerminalLines
from adapters.terminal.text import safe
from bot.catalogue import Catalogue
from bot.errors import SoraError
from bot.grammar import SHORTHANDS, VALUE_FLAGS, options_help, parse_request
from bot.models import TERMINAL, Job, Progress, Requester, VideoRequest, usd
from bot.offers import Offer
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "console"
COMMANDS = ("help", "usage", "jobs", "quit")
ALIASES = {"?": "help", "exit": "quit"}


def help_text(catalogue: Catalogue) -> str:
    return f"""Type a prompt to make a video; options may stand anywhere in it, quotes are not needed:
  a dog's day at the beach --pro --portrait --duration 8
{options_help(catalogue)}
Commands: help, usage, jobs, quit (or Ctrl-D: running jobs finish first; Ctrl-C stops now)."""


class Screen:
    """Every console line goes through here: escaped, and printed above the prompt when a
    prompt is waiting in a terminal, so progress never garbles what is being typed."""

    def __init__(self, out: TextIO, lines: TerminalLines | None = None) -> None:
        self.out = out
        self.lines = lines

    def say(self, text: str) -> None:
        body = "".join(safe(line) + "\n" for line in text.split("\n"))
        if self.lines is not None and self.lines.waiting:
            # Clear the prompt's line, print, then draw the prompt and the typing again.
            body = f"\r\x1b[K{body}{PROMPT}{self.lines.typed()}"
        self.out.write(body)
        self.out.flush()


class ConsoleEvents:
    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    async def accepted(self, job: Job) -> None:
        pass  # the prompt already answered "Started ...: cost"

    async def progress(self, job: Job, progress: Progress) -> None:
        self.screen.say(f"[{job.id}] {progress.describe()}")

    async def completed(self, job: Job, video: Path) -> None:
        if job.moved_from:
            self.screen.say(f"[{job.id}] made by {job.request.model}: {job.moved_from} is not "
                            f"available upstream ({usd(job.cost_micros)})")
        self.screen.say(f"[{job.id}] done: {video}")

    async def failed(self, job: Job, error: SoraError) -> None:
        self.screen.say(f"[{job.id}] failed: {error.user_message}")


def command(line: str) -> str | None:
    """The command a line names, in any case ("HELP", "Quit"), or None for a prompt."""
    word = line.strip().lower()
    word = ALIASES.get(word, word)
    return word if word in COMMANDS else None


def completions() -> list[str]:
    return [*COMMANDS, *(f"--{name}" for name in (*VALUE_FLAGS, *SHORTHANDS))]


async def serve(rt: Runtime, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stdout if out is None else out
    terminal = TerminalLines.for_streams(stdin, out, rt.settings.db_path.parent / "console-history",
                                         completions())
    screen = Screen(out, terminal)
    events = ConsoleEvents(screen)
    rt.engine.register(PLATFORM, lambda job: events)
    requester = Requester(PLATFORM, "local", cli.default_user())
    if rt.settings.uses_stand_in:
        screen.say(stand_in.NOTICE)
    resumed = await rt.engine.resume([PLATFORM])
    if resumed:
        screen.say(f"Resuming {len(resumed)} unfinished job(s).")
    if elsewhere := await rt.engine.running_elsewhere([PLATFORM]):
        screen.say(f"{elsewhere} unfinished job(s) are held by another process (or one that "
                   f"stopped within the last {rt.settings.lease_seconds:g} s) and left to it.")
    screen.say(help_text(rt.settings.catalogue))
    lines = terminal.lines() if terminal is not None else _piped_lines(stdin, out)
    pending: Offer | None = None  # an expensive request waiting for its "y"
    try:
        async for line in lines:
            if pending is not None:
                offer, pending = pending, None
                if line.strip().lower() in ("y", "yes"):
                    await _confirm(rt, offer, requester, screen)
                    continue
                screen.say("Cancelled; nothing was sent.")
                if line.strip().lower() in ("", "n", "no"):
                    continue
            name = command(line)
            if name == "quit":
                break
            if name is not None:
                await _run_command(rt, name, requester, screen)
            elif line.strip():
                pending = await _make(rt, line, requester, screen)
        else:
            if terminal is not None:  # Ctrl-D leaves the cursor after the prompt
                out.write("\n")
        await _finish(rt, screen)
    except asyncio.CancelledError:  # Ctrl-C or SIGTERM: the entry point says what happens next
        if terminal is not None:
            out.write("\n")
            out.flush()
        raise
    finally:
        if terminal is not None:
            terminal.close()
    return 0


async def _run_command(rt: Runtime, name: str, requester: Requester, screen: Screen) -> None:
    if name == "help":
        screen.say(help_text(rt.settings.catalogue))
    elif name == "usage":
        for text in (await rt.budgets.status(requester.team, requester.user)).lines():
            screen.say(text)
    elif name == "jobs":
        listed = await rt.engine.jobs(limit=10)
        if not listed:
            screen.say("No jobs yet.")
        for job in listed:
            screen.say(f"{job.id}  {job.status:<10} {usd(job.cost_micros):>7}  "
                       f"{safe(job.request.prompt[:60])}")


async def _finish(rt: Runtime, screen: Screen) -> None:
    """Quit or end of input: let this console's running jobs finish."""
    pending = [j for j in await rt.engine.jobs(limit=100)
               if j.status not in TERMINAL and j.requester.platform == PLATFORM]
    if pending:
        screen.say(f"Waiting for {len(pending)} running job(s) to finish; Ctrl-C stops now "
                   "and they resume at the next start.")
    for job in pending:
        await rt.engine.wait(job.id)


async def _piped_lines(stdin: TextIO, out: TextIO) -> AsyncIterator[str]:
    """Lines from a pipe without a blocked thread, so Ctrl-C stops the console at once."""
    if not _is_pipe(stdin):  # a regular file (`< prompts.txt`): plain reads do not block
        while line := stdin.readline():
            yield line.rstrip("\n")
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    while True:
        out.write(PROMPT)
        out.flush()
        line_bytes = await reader.readline()
        if not line_bytes:
            return
        yield line_bytes.decode(errors="replace").rstrip("\n")


def _is_pipe(stream: TextIO) -> bool:
    """Whether the event loop can wait on `stream`: a pipe, a socket, or a terminal (when
    output is not one). Not a regular file, nor /dev/null, which epoll refuses."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stream.isatty()
    except (OSError, ValueError):  # io.StringIO in tests, a closed stream
        return False


async def _make(rt: Runtime, line: str, requester: Requester, screen: Screen) -> Offer | None:
    """Start the video a line asks for; above SORA_CONFIRM_ABOVE_USD, return the offer that
    waits for the next line's "y" instead (nothing is reserved or sent meanwhile)."""
    text = line.replace("\t", " ").strip()
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        # An arrow or function key where line editing is off, or a paste with escapes.
        screen.say("That line holds control characters (an arrow key?), so nothing was sent. "
                   "Type help for how to ask for a video.")
        return None
    try:
        request = parse_request(text, rt.settings.catalogue)
        _, cost = rt.engine.quote(request)
        if rt.chat.needs_confirm(cost):
            offer = rt.chat.offer(request, requester, cost)
            screen.say(f"{rt.chat.offer_text(offer)} Type y to make it; anything else cancels.")
            return offer
    except SoraError as exc:
        screen.say(exc.user_message)
        return None
    await _submit(rt, request, requester, screen)
    return None


async def _confirm(rt: Runtime, offer: Offer, requester: Requester, screen: Screen) -> None:
    try:
        taken = rt.chat.take_offer(offer.id, requester)  # it may have expired meanwhile
    except SoraError as exc:
        screen.say(exc.user_message)
        return
    await _submit(rt, taken.request, taken.requester, screen)


async def _submit(rt: Runtime, request: VideoRequest, requester: Requester, screen: Screen) -> None:
    try:
        accepted = await rt.engine.submit(request, requester, ConsoleEvents(screen))
    except SoraError as exc:
        screen.say(exc.user_message)
        return
    left = "no limit" if accepted.left_today is None else f"{usd(accepted.left_today)} left today"
    screen.say(f"Started {accepted.job.id}: {usd(accepted.job.cost_micros)} ({left}).")

