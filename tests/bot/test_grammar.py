"""The request grammar shared by Slack and the console."""
from __future__ import annotations

import pytest

from bot.grammar import FlagError, parse_request


def test_flags_anywhere_rest_is_prompt() -> None:
    req = parse_request("a red fox --pro running --duration 8 in snow --portrait")
    assert req.prompt == "a red fox running in snow"
    assert (req.model, req.duration, req.aspect, req.resolution) == ("sora-2-pro", 8, "9:16", "720p")


def test_defaults_and_equals_form() -> None:
    assert parse_request("a cat").model == "sora-2"
    assert parse_request("a cat").duration == 4
    req = parse_request("--model=sora-2-pro --resolution=1080p --aspect 16:9 a cat --duration=12s")
    assert (req.model, req.resolution, req.aspect, req.duration, req.prompt) == (
        "sora-2-pro", "1080p", "16:9", 12, "a cat")


def test_em_dash_from_autocorrect_is_a_flag() -> None:
    assert parse_request("a cat \u2014pro").model == "sora-2-pro"


@pytest.mark.parametrize("text, fragment", [
    ("a cat --fast", "Unknown option --fast"),
    ("a cat --duration", "--duration needs a value"),
    ("a cat --duration --pro", "--duration needs a value"),
    ("a cat --duration eight", "whole seconds"),
    ("a cat --portrait --landscape", "Conflicting options"),
    ("a cat --pro --model sora-2", "Conflicting options"),
    ("a cat --pro=yes", "takes no value"),
])
def test_bad_flags_say_how_to_fix(text: str, fragment: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_request(text)
    assert fragment in err.value.user_message


def test_same_flag_twice_with_same_value_is_fine() -> None:
    assert parse_request("x --portrait --aspect 9:16").aspect == "9:16"
