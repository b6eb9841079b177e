"""Pure parsing of /sora text: subcommands and quota arguments."""
from __future__ import annotations

import pytest

from adapters.slack.flags import KEEP, FlagError, parse_command, parse_quota


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
