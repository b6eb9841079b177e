"""Pure parsing of /sora text."""
from __future__ import annotations

import pytest

from adapters.slack.flags import KEEP, FlagError, parse_command, parse_quota, parse_video


def test_flags_anywhere_rest_is_prompt() -> None:
    req = parse_video("a red fox --pro running --duration 8 in snow --portrait")
    assert req.prompt == "a red fox running in snow"
    assert (req.model, req.duration, req.aspect, req.resolution) == ("sora-2-pro", 8, "9:16", "720p")


def test_defaults_and_equals_form() -> None:
    assert parse_video("a cat").model == "sora-2"
    assert parse_video("a cat").duration == 4
    req = parse_video("--model=sora-2-pro --resolution=1080p --aspect 16:9 a cat --duration=12s")
    assert (req.model, req.resolution, req.aspect, req.duration, req.prompt) == (
        "sora-2-pro", "1080p", "16:9", 12, "a cat")


def test_em_dash_from_autocorrect_is_a_flag() -> None:
    assert parse_video("a cat \u2014pro").model == "sora-2-pro"


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
        parse_video(text)
    assert fragment in err.value.user_message


def test_same_flag_twice_with_same_value_is_fine() -> None:
    assert parse_video("x --portrait --aspect 9:16").aspect == "9:16"


def test_subcommands() -> None:
    assert parse_command("").command == "modal"
    assert parse_command("  help ").command == "help"
    assert parse_command("usage").command == "usage"
    assert parse_command("jobs").command == "jobs"
    assert parse_command("jobs done by robots").command == "video"
    q = parse_command("quota set <@U123|ann> --daily 5")
    assert q.command == "quota" and q.args == ("set", "<@U123|ann>", "--daily", "5")
    assert parse_command("quota of joy in a meadow").command == "video"


def test_quota_member_and_team() -> None:
    q = parse_quota(["set", "<@U0ABC|ann>", "--daily", "$5", "--monthly", "none"])
    assert (q.action, q.user, q.team, q.daily, q.monthly) == ("set", "U0ABC", False, 5.0, None)
    q = parse_quota(["set", "--team", "--monthly", "100"])
    assert (q.user, q.team, q.daily, q.monthly) == (None, True, KEEP, 100.0)
    q = parse_quota(["clear", "--user", "u0abc"])
    assert (q.action, q.user) == ("clear", "U0ABC")
    assert parse_quota(["show"]).team is True


@pytest.mark.parametrize("args, fragment", [
    (["set", "--daily", "5"], "Name a member"),
    (["set", "<@U1AB>"], "Give --daily"),
    (["set", "<@U1AB>", "--team", "--daily", "1"], "not both"),
    (["set", "<@U1AB>", "--daily", "five"], "takes dollars"),
    (["set", "<@U1AB>", "--daily", "-1"], "zero or more"),
    (["clear", "<@U1AB>", "--daily", "1"], "go with `quota set`"),
    (["set", "--user", "bob", "--daily", "1"], "member id"),
    (["frobnicate"], "Usage"),
])
def test_quota_errors(args: list[str], fragment: str) -> None:
    with pytest.raises(FlagError) as err:
        parse_quota(args)
    assert fragment in err.value.user_message
