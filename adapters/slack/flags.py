"""Pure parsing of `/sora` text: subcommands, video flags and quota arguments."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.budgets import KEEP
from bot.errors import InvalidRequest
from bot.models import VideoRequest


OPTIONS_HELP = (
    "Options: --model sora-2|sora-2-pro, --duration 4|8|12|16|20, --resolution 720p|1024p|1080p, "
    "--aspect 16:9|9:16, and the shorthands --pro, --portrait, --landscape."
)
_VALUE_FLAGS = {"model", "duration", "resolution", "aspect"}
_SHORTHANDS = {
    "pro": ("model", "sora-2-pro"),
    "portrait": ("aspect", "9:16"),
    "landscape": ("aspect", "16:9"),
}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# Phones and macOS turn "--" into an em or en dash; accept those as the flag prefix.
_DASHES = ("--", "\u2014", "\u2013")


class FlagError(InvalidRequest):
    """The command text cannot be understood; the message says how to fix it."""


Command = Literal["video", "help", "usage", "jobs", "quota", "modal"]


@dataclass(frozen=True)
class Parsed:
    command: Command
    request: VideoRequest | None = None
    args: tuple[str, ...] = ()


def parse_command(text: str) -> Parsed:
    """Split `/sora` text into a subcommand or a video request."""
    words = text.split()
    if not words:
        return Parsed("modal")
    head = words[0].lower()
    if len(words) == 1 and head in ("help", "usage", "jobs"):
        return Parsed(head)  # type: ignore[arg-type]
    if head == "quota" and (len(words) == 1 or words[1].lower() in ("set", "clear", "show")):
        return Parsed("quota", args=tuple(words[1:]))
    return Parsed("video", request=parse_video(text))


def _flag_name(word: str) -> str | None:
    for dash in _DASHES:
        if word.startswith(dash) and len(word) > len(dash):
            return word[len(dash):]
    return None


def parse_video(text: str) -> VideoRequest:
    """Flags may stand anywhere; every other word is the prompt. Values are checked by the core."""
    chosen: dict[str, str] = {}
    prompt: list[str] = []
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        name = _flag_name(word)
        i += 1
        if name is None:
            prompt.append(word)
            continue
        name, eq, value = name.partition("=")
        name = name.lower()
        if name in _SHORTHANDS:
            if eq:
                raise FlagError(f"--{name} takes no value. {OPTIONS_HELP}")
            key, value = _SHORTHANDS[name]
        elif name in _VALUE_FLAGS:
            key = name
            if not eq:
                if i >= len(words) or _flag_name(words[i]) is not None:
                    raise FlagError(f"--{name} needs a value, for example {_example(name)}.")
                value = words[i]
                i += 1
            if not value:
                raise FlagError(f"--{name} needs a value, for example {_example(name)}.")
        else:
            raise FlagError(f"Unknown option --{name}. {OPTIONS_HELP}")
        value = value.strip().lower()
        if key in chosen and chosen[key] != value:
            raise FlagError(
                f"Conflicting options: {key} is both {chosen[key]} and {value}. Keep one of them."
            )
        chosen[key] = value
    duration = 4
    if "duration" in chosen:
        raw = chosen["duration"].removesuffix("s")
        if not raw.isdigit():
            raise FlagError("--duration takes whole seconds: 4, 8, 12, 16 or 20.")
        duration = int(raw)
    return VideoRequest(
        prompt=" ".join(prompt),
        model=chosen.get("model", "sora-2"),
        duration=duration,
        resolution=chosen.get("resolution", "720p"),
        aspect=chosen.get("aspect", "16:9"),
    )


def _example(name: str) -> str:
    return {"model": "--model sora-2-pro", "duration": "--duration 8",
            "resolution": "--resolution 1080p", "aspect": "--aspect 9:16"}[name]


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
        name = _flag_name(word)
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
    text = raw.strip().lstrip("$").lower()
    if text in ("none", "off", "unlimited"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise FlagError(f"--{name} takes dollars such as 5 or 2.50 (or `none`), not {raw!r}.") from None
    if value < 0 or value != value:
        raise FlagError(f"--{name} must be zero or more dollars.")
    return value
