"""Budgets: daily and monthly caps per user and per team, in UTC periods."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from bot.alerts import Alerts, Meter
from bot.errors import AlreadyStarted, DuplicateRequest, InvalidRequest, QuotaExceeded
from bot.models import to_micros, usd
from bot.settings import Settings
from storage.store import QuotaRows, Spend, Store, now_iso


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: "Leave this cap as it is", where None means "no cap".
KEEP: Any = _Keep()


def parse_dollars(raw: str, what: str = "The amount") -> float | None:
    """A budget typed by a person: "5", "$2.50", or "none"/"off"/"unlimited" for no cap."""
    text = raw.strip().lstrip("$").strip().lower()
    if text in ("none", "off", "unlimited"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequest(f"{what} takes dollars such as 5 or 2.50 (or `none`), not {raw!r}.") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(f"{what} must be a finite amount of zero or more dollars.")
    return value


@dataclass(frozen=True)
class Limits:
    """Caps in micro-dollars; None means no cap."""

    user_daily: int | None = None
    user_monthly: int | None = None
    team_daily: int | None = None
    team_monthly: int | None = None

    def overridden_by(self, rows: QuotaRows) -> Limits:
        """Stored overrides win column by column; the rest keep these defaults."""
        def pick(row: dict[str, Any] | None, column: str, default: int | None) -> int | None:
            return row[column] if row and row.get(column) is not None else default

        return Limits(pick(rows.user, "daily_micros", self.user_daily),
                      pick(rows.user, "monthly_micros", self.user_monthly),
                      pick(rows.team, "daily_micros", self.team_daily),
                      pick(rows.team, "monthly_micros", self.team_monthly))


@dataclass(frozen=True)
class Windows:
    """Start of the current budget periods, as ISO timestamps in UTC."""

    day_start: str
    month_start: str


@dataclass(frozen=True)
class Usage:
    """Reserved plus spent micro-dollars in each window, with the caps that apply."""

    limits: Limits
    user_day: int
    user_month: int
    team_day: int
    team_month: int

    @classmethod
    def of(cls, defaults: Limits, spend: Spend, rows: QuotaRows) -> Usage:
        return cls(defaults.overridden_by(rows), *spend)

    def fits(self, amount: int) -> bool:
        pairs = (
            (self.limits.user_daily, self.user_day),
            (self.limits.user_monthly, self.user_month),
            (self.limits.team_daily, self.team_day),
            (self.limits.team_monthly, self.team_month),
        )
        return all(cap is None or used + amount <= cap for cap, used in pairs)

    def meters(self, user: str, w: Windows) -> list[Meter]:
        """Each cap with what was used under it, for the budget alerts."""
        day, month = w.day_start[:10], w.month_start[:7]
        lim = self.limits
        return [Meter(user, "daily", self.user_day, lim.user_daily, day),
                Meter(user, "monthly", self.user_month, lim.user_monthly, month),
                Meter(None, "daily", self.team_day, lim.team_daily, day),
                Meter(None, "monthly", self.team_month, lim.team_monthly, month)]


def windows(now: dt.datetime) -> Windows:
    now = now.astimezone(dt.UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Windows(now_iso(day), now_iso(day.replace(day=1)))


def next_day(now: dt.datetime) -> dt.datetime:
    now = now.astimezone(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)


def next_month(now: dt.datetime) -> dt.datetime:
    now = now.astimezone(dt.UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class BudgetStatus:
    """Where a user stands: what is used, the caps and what is left, in micro-dollars."""

    usage: Usage
    now: dt.datetime

    @property
    def left_today(self) -> int | None:
        """The most the user can spend today under every cap; None when nothing caps it."""
        u, lim = self.usage, self.usage.limits
        room = [cap - used for cap, used in (
            (lim.user_daily, u.user_day), (lim.user_monthly, u.user_month),
            (lim.team_daily, u.team_day), (lim.team_monthly, u.team_month),
        ) if cap is not None]
        return max(0, min(room)) if room else None

    def left_text(self) -> str:
        left = self.left_today
        return "no budget limit today" if left is None else f"{usd(left)} left today"

    def lines(self) -> list[str]:
        """A short human summary, used by every adapter."""
        u, lim = self.usage, self.usage.limits

        def cap(used: int, limit: int | None) -> str:
            return f"{usd(used)} of {usd(limit)}" if limit is not None else f"{usd(used)} (no limit)"

        return [
            f"You today: {cap(u.user_day, lim.user_daily)}; this month: {cap(u.user_month, lim.user_monthly)}",
            f"Team today: {cap(u.team_day, lim.team_daily)}; this month: {cap(u.team_month, lim.team_monthly)}",
            f"Left for you today: {self.left_text().replace(' left today', '')}. "
            f"Daily budgets reset at 00:00 UTC, monthly on the 1st.",
        ]


#: Where a budget change came from, as the audit log shows it.
FRONT_ENDS = ("discord", "slack", "cli", "web")


class Budgets:
    """Budget policy over the store: defaults from settings, overrides per user and team.
    Every change is audited; crossing 80% or 100% of a cap raises an alert (`alerts`)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self.alerts = Alerts(settings, store)
        self.defaults = Limits(*(
            None if v is None else to_micros(v) for v in (
                settings.user_daily_usd, settings.user_monthly_usd,
                settings.team_daily_usd, settings.team_monthly_usd,
            )
        ))

    async def status(self, team: str, user: str, now: dt.datetime | None = None) -> BudgetStatus:
        now = now or dt.datetime.now(dt.UTC)
        w = windows(now)
        spend, rows = await self.store.spend(team, user, w.day_start, w.month_start)
        return BudgetStatus(Usage.of(self.defaults, spend, rows), now)

    async def reserve(self, job: dict[str, Any], now: dt.datetime) -> BudgetStatus:
        """Insert the job with its cost reserved, or raise QuotaExceeded saying what is left
        (AlreadyStarted when the member has a live job for the same source)."""
        cost = job["cost_micros"]
        w = windows(now)
        outcome, spend, rows = await self.store.reserve(
            job, w.day_start, w.month_start,
            lambda spend, rows: Usage.of(self.defaults, spend, rows).fits(cost))
        status = BudgetStatus(Usage.of(self.defaults, spend, rows), now)
        if outcome == "duplicate_source":
            raise AlreadyStarted()
        if outcome == "duplicate_request":
            raise DuplicateRequest()
        await self.alerts.check(job["platform"], job["team"], status.usage.meters(job["user"], w),
                                cost, refused=outcome == "refused")
        if outcome == "refused":
            raise QuotaExceeded(refusal(status, cost))
        return status

    async def move(self, job_id: str, old_cost: int, new_cost: int, now: dt.datetime,
                   **job_fields: Any) -> BudgetStatus:
        """Re-quote a reserved job at `new_cost` (its model moved to a fallback), in one atomic
        store step. A drop always fits; a rise must fit every cap, else QuotaExceeded and
        nothing changes."""
        w = windows(now)
        outcome, spend, rows = await self.store.move_reservation(
            job_id, new_cost, w.day_start, w.month_start,
            lambda spend, rows: new_cost <= old_cost or Usage.of(self.defaults, spend, rows).fits(new_cost),
            **job_fields)
        status = BudgetStatus(Usage.of(self.defaults, spend, rows), now)
        if outcome == "refused":
            raise QuotaExceeded(refusal(status, new_cost))
        if outcome == "settled":
            raise KeyError(job_id)  # no open reservation: the engine's own bookkeeping is off
        return status

    async def ensure_room(self, team: str, user: str, cost: int, platform: str | None = None) -> None:
        """Raise QuotaExceeded early, before costly work; `reserve()` checks again atomically.
        With the requester's `platform`, a refusal raises the "used up" alert."""
        status = await self.status(team, user)
        if not status.usage.fits(cost):
            if platform:
                await self.alerts.check(platform, team,
                                        status.usage.meters(user, windows(status.now)),
                                        cost, refused=True)
            raise QuotaExceeded(refusal(status, cost))

    async def set(self, team: str, user: str | None, daily: float | object | None = KEEP,
                  monthly: float | object | None = KEEP, *, by: str, via: str) -> None:
        """Set caps in dollars for a member, or for the whole team when `user` is None.
        `by`: who asked (a member id or login name); `via`: the front end (FRONT_ENDS). The
        one way budgets change: the store writes the audit log in the same transaction."""
        caps: dict[str, int | None] = {}
        for column, value in (("daily_micros", daily), ("monthly_micros", monthly)):
            if value is KEEP:
                continue
            if value is not None and not (isinstance(value, int | float) and math.isfinite(value)
                                          and value >= 0):
                raise InvalidRequest("A budget must be a finite amount of zero or more dollars.")
            caps[column] = None if value is None else to_micros(value)
        if not caps:
            raise InvalidRequest("Give a daily and/or monthly amount in dollars.")
        await self.store.change_quota(team, user or "", caps, actor=by, front_end=_front_end(via),
                                      now=now_iso())

    async def clear(self, team: str, user: str | None, *, by: str, via: str) -> bool:
        """Remove overrides so the defaults apply again; audited like `set`."""
        return await self.store.remove_quota(team, user or "", actor=by,
                                             front_end=_front_end(via), now=now_iso())

    async def audit_log(self, team: str, limit: int = 200) -> list[dict[str, Any]]:
        return await self.store.audit_log(team, limit)

    async def quotas(self, team: str | None = None) -> list[dict[str, Any]]:
        return await self.store.quotas(team)


def _front_end(via: str) -> str:
    if via not in FRONT_ENDS:
        raise ValueError(f"unknown front end {via!r}")  # a programming error, not input
    return via


def refusal(status: BudgetStatus, cost: int) -> str:
    """Why a job was refused, what is left and when it resets."""
    u, lim = status.usage, status.usage.limits
    checks = [
        ("your daily budget", lim.user_daily, u.user_day, next_day(status.now)),
        ("your monthly budget", lim.user_monthly, u.user_month, next_month(status.now)),
        ("the team's daily budget", lim.team_daily, u.team_day, next_day(status.now)),
        ("the team's monthly budget", lim.team_monthly, u.team_month, next_month(status.now)),
    ]
    for name, cap, used, resets in checks:
        if cap is not None and used + cost > cap:
            left = max(0, cap - used)
            return (
                f"This video costs {usd(cost)} but {name} has {usd(left)} left of {usd(cap)}. "
                f"It resets {_when(resets, status.now)}."
            )
    return f"This video costs {usd(cost)}, more than the budget allows."


def _when(moment: dt.datetime, now: dt.datetime) -> str:
    hours, rest = divmod(int((moment - now).total_seconds()), 3600)
    span = f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {rest // 60}m"
    return f"at {moment:%Y-%m-%d %H:%M} UTC (in {span})"
