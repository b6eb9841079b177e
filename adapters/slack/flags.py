"""Pure parsing of `/sora` text: subcommands and quota arguments; a video request follows
the core's grammar (`bot.grammar`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.budgets import KEEP, parse_dollars
from bot.catalogue import BUILTIN, Catalogue
from bot.errors import InvalidRequest
from bot.grammar import FlagError, flag_name, parse_request
from bot.models import VideoRequest


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


Command = Literal["video", "help", "usage", "jobs", "quota", "modal", "admin", "release",
                  "charge", "show"]


@dataclass(frozen=True)
class Parsed:
    command: Command
    request: VideoRequest | None = None
    args: tuple[str, ...] = ()


def parse_command(text: str, catalogue: Catalogue = BUILTIN) -> Parsed:
    """Split `/sora` text into a subcommand or a video request."""
    words = text.split()
    if not words:
        return Parsed("modal")
    head = words[0].lower()
    if len(words) == 1 and head in ("help", "usage", "jobs", "admin"):
        return Parsed(head)  # type: ignore[arg-type]
    if head == "quota" and (len(words) == 1 or words[1].lower() in ("set", "clear", "show")):
        return Parsed("quota", args=tuple(words[1:]))
    if head in ("release", "charge", "show") and len(words) == 2 and words[1].startswith("job_"):
        return Parsed(head, args=(words[1],))  # type: ignore[arg-type]
    return Parsed("video", request=parse_request(text, catalogue))


@dataclass(frozen=True)
class QuotaArgs:
    action: Literal["set", "clear", "show"]
    user: str | None  # a Slack user id; None with team=True means the whole workspace
    team: bool
    daily: Any = KEEP  # dollars, None for no cap, or KEEP
    monthly: Any = KEEP


QUOTA_USAGE = (
    "Usage: `/sora quota set @member --daily 5 --monthly 50`, `/sora quota set --team --daily 20`, "
    "`/sora quota clear @member`, `/sora quota show [@member | --team]`. "
    "`--user U123` works in place of a mention; `--daily none` removes a cap."
)


def parse_quota(args: tuple[str, ...] | list[str]) -> QuotaArgs:
    """`set|clear|show`, a member (mention or --user) or --team, --daily/--monthly dollars."""
    if not args or args[0].lower() not in ("set", "clear", "show"):
        raise FlagError(QUOTA_USAGE)
    action = args[0].lower()
    user: str | None = None
    team = False
    money: dict[str, Any] = {"daily": KEEP, "monthly": KEEP}
    i = 1
    while i < len(args):
        word = args[i]
        i += 1
        mention = _MENTION.match(word)
        name = flag_name(word)
        if mention:
            user = _one_user(user, mention.group(1))
        elif name == "team":
            team = True
        elif name in ("user", "daily", "monthly"):
            if i >= len(args):
                raise FlagError(f"--{name} needs a value. {QUOTA_USAGE}")
            value = args[i]
            i += 1
            if name == "user":
                found = _MENTION.match(value)
                uid = found.group(1) if found else value.upper()
                if not _USER_ID.match(uid):
                    raise FlagError(f"--user takes a Slack member id such as U0123ABCD, not {value!r}.")
                user = _one_user(user, uid)
            else:
                money[name] = _dollars(name, value)
        else:
            raise FlagError(f"I did not understand {word!r}. {QUOTA_USAGE}")
    if user and team:
        raise FlagError("Name a member or --team, not both.")
    if action != "show" and not user and not team:
        raise FlagError(f"Name a member (@member or --user U123) or --team. {QUOTA_USAGE}")
    if action == "set" and money["daily"] is KEEP and money["monthly"] is KEEP:
        raise FlagError("Give --daily and/or --monthly in dollars, for example --daily 5.")
    if action != "set" and (money["daily"] is not KEEP or money["monthly"] is not KEEP):
        raise FlagError(f"--daily and --monthly go with `quota set`. {QUOTA_USAGE}")
    return QuotaArgs(action, user, team or not user, money["daily"], money["monthly"])  # type: ignore[arg-type]


def _one_user(current: str | None, new: str) -> str:
    if current and current != new:
        raise FlagError("Name one member at a time.")
    return new


def _dollars(name: str, raw: str) -> float | None:
    try:
        return parse_dollars(raw, f"--{name}")
    except InvalidRequest as exc:
        raise FlagError(exc.user_message) from None
