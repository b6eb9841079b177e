"""Lines typed at a terminal, with readline's editing and history where Python has it.

`input()` blocks, so it runs in a daemon thread that reads one line each time the console
asks for one; the event loop stays free for running jobs. The terminal's modes are saved at
start and put back at the end, so even a Ctrl-C during a read leaves the shell usable."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger(__name__)

PROMPT = "sora> "
HISTORY_LINES = 500

try:
    import readline
except ImportError:  # Windows, or a Python built without it: plain lines still work
    readline = None  # type: ignore[assignment]

try:
    import termios
except ImportError:
    termios = None  # type: ignore[assignment]


class TerminalLines:
    """One reader per console; `lines()` yields what is typed until Ctrl-D."""

    def __init__(self, fd: int, history: Path | None, words: Sequence[str] = ()) -> None:
        self.fd = fd
        self.history = history
        self.waiting = False  # a prompt is on screen, waiting for typing
        self._saved_modes: Any = None
        self._asks: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Future[str | None]]] = queue.Queue()
        if termios is not None:
            with contextlib.suppress(termios.error):
                self._saved_modes = termios.tcgetattr(fd)
        self._setup_readline(words)
        threading.Thread(target=self._read_forever, name="console-input", daemon=True).start()

    @classmethod
    def for_streams(cls, stdin: TextIO, out: TextIO, history: Path | None,
                    words: Sequence[str] = ()) -> TerminalLines | None:
        """A reader when both ends are a terminal; None for pipes and files."""
        try:
            if stdin.isatty() and out.isatty():
                return cls(stdin.fileno(), history, words)
        except (AttributeError, ValueError, OSError):
            pass
        return None

    async def lines(self) -> AsyncIterator[str]:
        while (line := await self._ask()) is not None:
            yield line

    def typed(self) -> str:
        """What is typed so far at the prompt, to draw it again below a message."""
        return readline.get_line_buffer() if readline is not None else ""

    def close(self) -> None:
        """Put the terminal's modes back and keep the history. The reading thread may still
        wait in `input()`; it is a daemon and ends with the process."""
        if self._saved_modes is not None and termios is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved_modes)
        if readline is not None and self.history is not None:
            try:
                readline.set_history_length(HISTORY_LINES)
                readline.write_history_file(self.history)
            except OSError as exc:
                log.warning("Cannot keep the console history in %s: %s", self.history, exc.strerror)

    # -- the reading thread ----------------------------------------------------------------

    async def _ask(self) -> str | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._asks.put((loop, future))
        return await future

    def _read_forever(self) -> None:
        while True:
            loop, future = self._asks.get()
            self.waiting = True
            try:
                line: str | None = input(PROMPT)
            except EOFError:  # Ctrl-D
                line = None
            except Exception:  # a closed or broken terminal: end as for Ctrl-D
                log.exception("Reading the terminal failed")
                line = None
            finally:
                self.waiting = False
            with contextlib.suppress(RuntimeError):  # the loop closed: the console is gone
                loop.call_soon_threadsafe(_settle, future, line)

    def _setup_readline(self, words: Sequence[str]) -> None:
        if readline is None:
            return
        if self.history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(self.history)
        choices = sorted(words)

        def complete(text: str, state: int) -> str | None:
            matches = [w for w in choices if w.startswith(text.lower())]
            return matches[state] if state < len(matches) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" ")
        if "libedit" in (readline.__doc__ or ""):  # macOS
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)
