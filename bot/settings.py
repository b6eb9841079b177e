"""Settings: one frozen dataclass, read once from the environment and passed down."""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from bot import catalogue as catalogue_
from bot.catalogue import Catalogue
from bot.errors import ConfigError

DEFAULT_BASE_URL = "https://apimaster.ai/v1"
N = TypeVar("N", int, float)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Settings no-key mode gives its own defaults, which a `.env` does not override.
STAND_IN_OWN = frozenset({"SORA_DB", "SORA_POLL_FIRST_DELAY", "SORA_POLL_INTERVAL"})

# Dollars per second of the built-in models, by (model, resolution). Prices live in the
# catalogue (bot/catalogue.py); SORA_PRICES overrides entries ("sora-2-pro:1080p=0.60").
DEFAULT_PRICES: dict[tuple[str, str], float] = {
    k: v for k, v in catalogue_.BUILTIN.price_table().items() if k[0] in catalogue_.BUILTIN.specs
}


@dataclass(frozen=True)
class Settings:
    # APIMaster
    api_key: str = field(default="", repr=False)
    base_url: str = DEFAULT_BASE_URL
    # Models and providers: built in, plus SORA_MODELS_FILE, with SORA_PRICES applied.
    catalogue: Catalogue = field(default_factory=lambda: catalogue_.BUILTIN, repr=False)
    # Storage
    db_path: Path = Path("data/sora.db")
    #: SORA_DB as a postgresql:// URL: the shared database of several processes or hosts;
    #: it wins over db_path. Kept out of repr: it may carry a password.
    db_url: str = field(default="", repr=False)
    media_dir: Path = Path("data/videos")
    # Polling and deadlines (seconds; fractions allowed so tests run in milliseconds)
    poll_first_delay: float = 15.0
    poll_interval: float = 4.0
    job_timeout: float = 1800.0
    http_timeout: float = 30.0
    retry_base_delay: float = 1.0
    max_retries: int = 5
    progress_min_interval: float = 5.0
    #: How long a process's claim on a job lasts without renewal; a dead process's jobs are
    #: taken by another once it runs out.
    lease_seconds: float = 60.0
    # Limits
    max_jobs_per_user: int = 2
    max_concurrent_jobs: int = 20
    max_parallel_downloads: int = 8
    #: ffmpeg re-encodes at once (shrinking to upload limits): one per two cores.
    max_transcodes: int = max(1, (os.cpu_count() or 2) // 2)
    #: A download larger than this is not accepted as a video (an endless body fills no disk).
    max_video_bytes: int = 200_000_000
    #: Hosts (besides the provider's own and public ones) that download links may name.
    download_hosts: frozenset[str] = frozenset()
    api_requests_per_second: float = 10.0
    max_prompt_chars: int = 4000
    # Budgets in dollars; None means no limit
    user_daily_usd: float | None = 5.0
    user_monthly_usd: float | None = None
    team_daily_usd: float | None = None
    team_monthly_usd: float | None = None
    #: Chat jobs costing more than this (dollars) ask Confirm / Cancel first; the terminal
    #: asks on a TTY and otherwise wants --yes. None: never ask.
    confirm_above_usd: float | None = 2.0
    #: How long an offer to confirm stays open (seconds).
    confirm_ttl: float = 300.0
    #: Delete video files older than this many days (`sora-bot prune`); None: keep them all.
    keep_videos_days: int | None = None
    # Reactions and defaults for image-to-video started from chat
    reaction_emoji: str = "\N{CLAPPER BOARD}"
    reaction_emoji_slack: str = "clapper"
    reaction_model: str = "sora-2"
    reaction_duration: int = 4
    reaction_prompt: str = "Bring this image to life with gentle, natural motion."
    reaction_explain_no_image: bool = True
    # Discord
    discord_token: str = field(default="", repr=False)
    discord_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    #: Which gateway shards this process runs, of how many: processes sharing one bot token
    #: split the shards between them. None: one process, discord.py picks.
    discord_shard_ids: tuple[int, ...] | None = None
    discord_shard_count: int | None = None
    # Slack
    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str | None = None
    slack_admin_user_ids: frozenset[str] = frozenset()
    public_base_url: str | None = None
    public_link_ttl: float = 3600.0
    port: int = 3000
    # Admin console (the web dashboard)
    admin_link_ttl: float = 600.0
    admin_session_ttl: float = 8 * 3600.0  # a working day
    #: SORA_ADMIN_KEY_FILE: the sign-in links' key. By default beside the SQLite file; with
    #: PostgreSQL shared by several hosts, point them all at one copy of the same key.
    admin_key_file: Path | None = None
    metrics_token: str = field(default="", repr=False)
    alert_channel_discord: str | None = None
    alert_channel_slack: str | None = None
    # Logging
    log_level: str = "INFO"

    @property
    def prices(self) -> Mapping[tuple[str, str], float]:
        """{(model, resolution): dollars per second}, from the catalogue."""
        return self.catalogue.price_table()

    @property
    def uses_stand_in(self) -> bool:
        """No key: run against the local APIMaster stand-in (test clips, nothing charged)."""
        return not self.api_key

    @property
    def database(self) -> str | Path:
        """What the store opens: the PostgreSQL URL when set, else the SQLite file."""
        return self.db_url or self.db_path

    @property
    def hint_ceiling(self) -> float:
        """The longest wait a server's hint (Retry-After, a poll hint) may ask of us."""
        return max(1.0, 10 * self.poll_interval)

    def secrets(self) -> list[str]:
        """Every credential the bot holds: scrubbed from anything a person, a log or the
        database could see, even when an upstream service quotes one back."""
        return [s for s in (self.api_key, self.discord_token, self.slack_bot_token,
                            self.slack_app_token, self.slack_signing_secret, self.metrics_token,
                            _password(self.db_url), *self.catalogue.secrets()) if s]

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 from_file: Collection[str] = ()) -> Settings:
        """Every setting, checked; a bad one raises ConfigError naming it. `from_file` names
        the variables that came from `.env` rather than the real environment."""
        env = os.environ if env is None else env
        r = _Reader(env)
        d = cls()
        api_key = r.text("APIMASTER_API_KEY") or ""
        if not api_key:
            # Without a key the bot runs against the local stand-in: keep its test spend out
            # of the real ledger and poll its short jobs briskly, even when a `.env` written
            # for the real service sets these; the real environment still wins.
            d = cls(db_path=Path("data/stand-in.db"), poll_first_delay=1.0, poll_interval=1.0)
            r = _Reader({k: v for k, v in env.items() if not (k in STAND_IN_OWN and k in from_file)})
        slack_api_url = r.url("SLACK_API_URL")
        if slack_api_url and not slack_api_url.endswith("/"):
            slack_api_url += "/"
        settings = cls(
            api_key=api_key,
            base_url=(r.url("APIMASTER_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            # Provider keys are required only with a real key: the stand-in needs none.
            catalogue=catalogue_.load(r.text("SORA_MODELS_FILE"), env, _prices(r.text("SORA_PRICES")),
                                      require_keys=bool(api_key)),
            db_path=d.db_path if _is_db_url(r.text("SORA_DB")) else Path(r.text("SORA_DB") or d.db_path),
            db_url=r.db_url("SORA_DB") or "",
            media_dir=Path(r.text("SORA_MEDIA_DIR") or d.media_dir),
            poll_first_delay=r.seconds("SORA_POLL_FIRST_DELAY", d.poll_first_delay),
            poll_interval=r.seconds("SORA_POLL_INTERVAL", d.poll_interval),
            job_timeout=r.seconds("SORA_JOB_TIMEOUT", d.job_timeout),
            http_timeout=r.seconds("SORA_HTTP_TIMEOUT", d.http_timeout),
            retry_base_delay=r.seconds("SORA_RETRY_BASE_DELAY", d.retry_base_delay),
            max_retries=r.whole("SORA_MAX_RETRIES", d.max_retries),
            progress_min_interval=r.seconds("SORA_PROGRESS_INTERVAL", d.progress_min_interval),
            lease_seconds=r.seconds("SORA_LEASE_SECONDS", d.lease_seconds),
            max_jobs_per_user=r.whole("SORA_MAX_JOBS_PER_USER", d.max_jobs_per_user),
            max_concurrent_jobs=r.whole("SORA_MAX_CONCURRENT_JOBS", d.max_concurrent_jobs),
            max_parallel_downloads=r.whole("SORA_MAX_DOWNLOADS", d.max_parallel_downloads),
            max_transcodes=r.whole("SORA_MAX_TRANSCODES", d.max_transcodes),
            max_video_bytes=r.whole("SORA_MAX_VIDEO_BYTES", d.max_video_bytes),
            download_hosts=frozenset(h.strip().lower() for h in
                                     (r.text("SORA_DOWNLOAD_HOSTS") or "").split(",") if h.strip()),
            api_requests_per_second=r.seconds("SORA_API_RPS", d.api_requests_per_second),
            max_prompt_chars=r.whole("SORA_MAX_PROMPT_CHARS", d.max_prompt_chars),
            user_daily_usd=r.money("SORA_USER_DAILY_USD", d.user_daily_usd),
            user_monthly_usd=r.money("SORA_USER_MONTHLY_USD", d.user_monthly_usd),
            team_daily_usd=r.money("SORA_TEAM_DAILY_USD", d.team_daily_usd),
            team_monthly_usd=r.money("SORA_TEAM_MONTHLY_USD", d.team_monthly_usd),
            confirm_above_usd=r.money("SORA_CONFIRM_ABOVE_USD", d.confirm_above_usd),
            keep_videos_days=r.optional_whole("SORA_KEEP_VIDEOS_DAYS"),
            reaction_emoji=r.text("SORA_REACTION_EMOJI") or d.reaction_emoji,
            reaction_emoji_slack=(r.text("SORA_REACTION_EMOJI_SLACK") or d.reaction_emoji_slack).strip(":"),
            reaction_model=r.text("SORA_REACTION_MODEL") or d.reaction_model,
            reaction_duration=r.whole("SORA_REACTION_DURATION", d.reaction_duration),
            reaction_prompt=r.text("SORA_REACTION_PROMPT") or d.reaction_prompt,
            reaction_explain_no_image=r.flag("SORA_REACTION_EXPLAIN_NO_IMAGE", d.reaction_explain_no_image),
            discord_token=r.text("DISCORD_TOKEN") or "",
            discord_guild_id=r.optional_whole("DISCORD_GUILD_ID"),
            discord_api_base=r.url("DISCORD_API_BASE"),
            discord_gateway_url=r.url("DISCORD_GATEWAY_URL", ("ws", "wss")),
            discord_shard_ids=r.whole_list("DISCORD_SHARD_IDS"),
            discord_shard_count=r.optional_whole("DISCORD_SHARD_COUNT"),
            slack_bot_token=r.text("SLACK_BOT_TOKEN") or "",
            slack_app_token=r.text("SLACK_APP_TOKEN") or "",
            slack_signing_secret=r.text("SLACK_SIGNING_SECRET") or "",
            slack_api_url=slack_api_url,
            slack_admin_user_ids=frozenset(
                u.strip() for u in (r.text("SLACK_ADMIN_USER_IDS") or "").split(",") if u.strip()
            ),
            public_base_url=(r.url("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            public_link_ttl=r.seconds("PUBLIC_LINK_TTL", d.public_link_ttl),
            port=r.port("PORT", d.port),
            admin_link_ttl=r.seconds("ADMIN_LINK_TTL", d.admin_link_ttl),
            admin_session_ttl=r.seconds("ADMIN_SESSION_TTL", d.admin_session_ttl),
            admin_key_file=Path(key_file) if (key_file := r.text("SORA_ADMIN_KEY_FILE")) else None,
            metrics_token=r.text("METRICS_TOKEN") or "",
            alert_channel_discord=_channel_id(r.text("SORA_ALERT_CHANNEL_DISCORD")),
            alert_channel_slack=r.text("SORA_ALERT_CHANNEL_SLACK"),
            log_level=r.log_level("LOG_LEVEL", d.log_level),
        )
        if settings.discord_shard_ids is not None and not (
                settings.discord_shard_count and all(i < settings.discord_shard_count
                                                     for i in settings.discord_shard_ids)):
            raise ConfigError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT, and every id must be "
                              "less than the count (ids count from 0).")
        if settings.discord_shard_count == 0:
            raise ConfigError("DISCORD_SHARD_COUNT must be 1 or more.")
        if settings.catalogue.resolve(settings.reaction_model) is None:
            raise ConfigError(f"SORA_REACTION_MODEL {settings.reaction_model!r} is not a model: use "
                              f"{catalogue_.or_list(settings.catalogue.models())}.")
        return settings


class _Reader:
    """Parses environment values, naming the variable in every error."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def seconds(self, name: str, default: float) -> float:
        raw = self.text(name)
        return default if raw is None else _non_negative(name, raw, float, "a number of seconds")

    def whole(self, name: str, default: int) -> int:
        value = self.optional_whole(name)
        return default if value is None else value

    def optional_whole(self, name: str) -> int | None:
        raw = self.text(name)
        return None if raw is None else _non_negative(name, raw, int, "a whole number")

    def money(self, name: str, default: float | None) -> float | None:
        if name not in self.env:
            return default
        raw = self.env[name].strip().lstrip("$")
        if raw.lower() in ("", "none", "unlimited", "off"):
            return None
        return _non_negative(name, raw, float, "an amount in dollars such as 5.00")

    def url(self, name: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme.lower() not in schemes or not parts.hostname:
            # The value is not echoed: a URL may carry credentials.
            raise ConfigError(f"{name} must be a URL starting with "
                              f"{' or '.join(s + '://' for s in schemes)} and naming a host.")
        return raw

    def whole_list(self, name: str) -> tuple[int, ...] | None:
        """Whole numbers separated by commas ("0,1,2"); None when unset."""
        raw = self.text(name)
        if raw is None:
            return None
        return tuple(_non_negative(name, item.strip(), int, "whole numbers separated by commas")
                     for item in raw.split(","))

    def db_url(self, name: str) -> str | None:
        """A postgresql:// URL, checked; None for a path (SQLite) or nothing."""
        raw = self.text(name)
        if not _is_db_url(raw):
            return None
        assert raw is not None
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            parts = None
        if parts is None or not (parts.hostname or "host=" in parts.query):
            # Not echoed: the URL may carry a password.
            raise ConfigError(f"{name} must be a file path or a URL such as "
                              "postgresql://user:password@host:5432/dbname naming a host.")
        return raw

    def port(self, name: str, default: int) -> int:
        value = self.whole(name, default)
        if not 1 <= value <= 65535:
            raise ConfigError(f"{name} must be a port number from 1 to 65535, not {value}.")
        return value

    def log_level(self, name: str, default: str) -> str:
        value = (self.text(name) or default).upper()
        if value not in LOG_LEVELS:
            raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, not {value.lower()!r}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _is_db_url(raw: str | None) -> bool:
    return bool(raw) and str(raw).startswith(("postgresql://", "postgres://"))


def _password(url: str) -> str:
    try:
        return urlsplit(url).password or "" if url else ""
    except ValueError:
        return ""


def _non_negative(name: str, raw: str, convert: Callable[[str], N], what: str) -> N:
    try:
        value = convert(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {raw!r}.") from None
    if not math.isfinite(value):  # float("inf") and float("nan") parse
        raise ConfigError(f"{name} must be a finite number, not {raw!r}.")
    if value < 0:
        raise ConfigError(f"{name} must not be negative.")
    return value


def _channel_id(raw: str | None) -> str | None:
    if raw is not None and not raw.isdigit():
        raise ConfigError(f"SORA_ALERT_CHANNEL_DISCORD must be a channel id (digits), not {raw!r}.")
    return raw


def _prices(raw: str | None) -> dict[tuple[str, str], float]:
    prices: dict[tuple[str, str], float] = {}
    if not raw:
        return prices
    for item in raw.split(","):
        try:
            key, rate = item.split("=")
            model, resolution = key.strip().split(":")
            value = float(rate)
            prices[(model.strip(), resolution.strip())] = value
        except ValueError:
            raise ConfigError(
                f"SORA_PRICES entry {item.strip()!r} must look like sora-2-pro:1080p=0.56."
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"SORA_PRICES entry {item.strip()!r}: a price must be more than $0 "
                              "per second (and finite).")
    return prices
