"""The terminal's question before an expensive job."""
from __future__ import annotations

import io

import pytest

from adapters.terminal.creative import confirmed
from bot.settings import Settings


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("answer, goes", [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False)])
def test_a_terminal_is_asked(answer: str, goes: bool, capsys: pytest.CaptureFixture[str]) -> None:
    assert confirmed(11_200_000, Settings(), yes=False, stdin=Tty(answer)) is goes
    assert "costs $11.20, more than SORA_CONFIRM_ABOVE_USD ($2.00)" in capsys.readouterr().err


def test_no_question_below_the_threshold_with_yes_or_when_off() -> None:
    silent = io.StringIO("")  # not a TTY, nothing to read: any question would refuse
    assert confirmed(2_000_000, Settings(), yes=False, stdin=silent)
    assert confirmed(11_200_000, Settings(), yes=True, stdin=silent)
    assert confirmed(11_200_000, Settings(confirm_above_usd=None), yes=False, stdin=silent)
    assert not confirmed(2_000_001, Settings(), yes=False, stdin=silent)
