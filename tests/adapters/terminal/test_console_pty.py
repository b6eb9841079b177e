"""The console in a real pseudo-terminal, as a person at a keyboard meets it."""
from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.terminal.test_cli import _env

UP = "\x1b[A"


class Terminal:
    """`sora-bot run` on the slave side of a pty; we type on the master side."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its controlling terminal is the pty
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "adapters.main", "run"], env)
        self.seen = ""
        self.status: int | None = None

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def read_until(self, text: str, timeout: float = 30, after: int = 0) -> str:
        """Everything shown so far, once `text` appears after position `after`."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[after:]:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; the screen shows:\n{self.seen[-2000:]}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:  # EIO: the child closed the terminal
                    assert text in self.seen[after:], f"exited before {text!r}:\n{self.seen[-2000:]}"
        return self.seen

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with_output = select.select([self.fd], [], [], 0.1)[0]
            if with_output:
                try:
                    self.seen += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        raise AssertionError(f"still running; the screen shows:\n{self.seen[-2000:]}")

    def close(self) -> None:
        if self.status is None:
            with_suppress_kill(self.pid)
        os.close(self.fd)


def with_suppress_kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = _env(tmp_path, TERM="xterm")
    term = Terminal(tmp_path, env)
    try:
        yield term
    finally:
        term.close()


def _jobs(tmp_path: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(tmp_path / "sora.db") as conn:
        return conn.execute("SELECT prompt, model, aspect, status FROM jobs").fetchall()


def test_help_in_any_case_arrows_never_prompts_and_the_slack_grammar(terminal, tmp_path):
    shown = terminal.read_until("sora> ")
    assert f"Log: {tmp_path / 'console.log'}" in shown
    start = len(terminal.seen)
    terminal.type(UP + "\r")  # nothing typed yet: no history to recall, and never a prompt
    terminal.read_until("sora> ", after=start)
    start = len(terminal.seen)
    terminal.type("HELP\r")
    terminal.read_until("sora> ", after=terminal.read_until("Commands:", after=start).rindex("Commands:"))
    start = len(terminal.seen)
    terminal.type(UP + "\r")  # history recalls HELP
    terminal.read_until("Commands:", after=start)
    terminal.read_until("sora> ", after=terminal.seen.rindex("Commands:"))
    start = len(terminal.seen)
    terminal.type("a dog's day at the beach --pro --portrait\r")
    terminal.read_until("Started job_", after=start)
    terminal.read_until("done: ", after=start)
    assert "Traceback" not in terminal.seen and "\x1b[A" not in terminal.seen[start:]
    terminal.read_until("sora> ", after=terminal.seen.rindex("done: "))
    start = len(terminal.seen)
    terminal.type("\x04")  # Ctrl-D at an empty prompt
    assert terminal.wait() == 0
    assert terminal.seen[start:].startswith("\r\n")  # the shell's prompt starts on a new line
    assert _jobs(tmp_path) == [("a dog's day at the beach", "sora-2-pro", "9:16", "delivered")]


def test_ctrl_c_is_tidy_and_gives_the_terminal_back(terminal, tmp_path):
    terminal.read_until("sora> ")
    line_mode = termios.ECHO | termios.ICANON
    assert not termios.tcgetattr(terminal.fd)[3] & line_mode  # readline is editing the line
    start = len(terminal.seen)
    terminal.type("a slow sunrise\r")
    terminal.read_until("Started job_", after=start)
    start = len(terminal.seen)
    terminal.read_until("sora> ", after=start)  # idle at the prompt again (the store is async now)
    start = len(terminal.seen)
    terminal.type("\x03")  # Ctrl-C
    assert terminal.wait() == 130
    after = terminal.seen[start:]
    assert "Traceback" not in after
    assert "\r\nStopped. Unfinished jobs resume at the next" in after
    assert termios.tcgetattr(terminal.fd)[3] & line_mode == line_mode  # the shell's modes are back


def test_ctrl_d_lets_running_jobs_finish(terminal, tmp_path):
    terminal.read_until("sora> ")
    start = len(terminal.seen)
    terminal.type("a lighthouse at dusk --landscape\r")
    terminal.read_until("sora> ", after=terminal.read_until("Started job_", after=start).rindex("Started"))
    start = len(terminal.seen)
    terminal.type("\x04")
    assert terminal.wait() == 0
    after = terminal.seen[start:]
    assert after.startswith("\r\n") and "Waiting for 1 running job(s) to finish" in after
    assert after.index("Waiting for") < after.index("done: ")
    assert _jobs(tmp_path) == [("a lighthouse at dusk", "sora-2", "16:9", "delivered")]
