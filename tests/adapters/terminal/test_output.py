"""Terminal output never passes stored control characters through."""
from __future__ import annotations

import argparse

import pytest

from adapters.terminal import cli
from adapters.terminal.text import safe
from bot.models import Requester, VideoRequest

NASTY = "fox\x1b]0;owned\x07\x1b[2J\u202eevil\nsecond line"


@pytest.mark.parametrize("raw, shown", [
    ("a plain prompt, é, 🎬, ünïcode", "a plain prompt, é, 🎬, ünïcode"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("bell\x07 and del\x7f and c1\x9b", "bell\\x07 and del\\x7f and c1\\x9b"),
    ("two\nlines\r\tand tab", "two\\x0alines\\x0d\\x09and tab"),
    ("\u202ereversed", "\\u202ereversed"),
    ("no\u00a0break space", "no\u00a0break space"),
])
def test_safe_escapes_control_characters_only(raw, shown):
    assert safe(raw) == shown
    assert safe(safe(raw)) == safe(raw)


async def test_jobs_and_usage_print_stored_text_escaped(runtime, capsys):
    runtime.engine.register("cli", cli._terminal_factory)
    accepted = await runtime.engine.submit(VideoRequest(prompt=NASTY),
                                           Requester("cli", "te\x1bam", "an\x1b[8mn"), cli.TerminalEvents())
    await runtime.engine.wait(accepted.job.id)
    capsys.readouterr()
    assert await cli.jobs(runtime, argparse.Namespace(json=False, limit=5, action=None)) == 0
    assert await cli.usage(runtime, argparse.Namespace(json=False, team=None, user=None)) == 0
    assert await cli.jobs(runtime, argparse.Namespace(json=True, limit=5, action=None)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "fox\\x1b]0;owned\\x07" in out and "te\\x1bam/an\\x1b[8mn" in out
