"""Budget alerts: when a member's or the team's spend crosses 80% and again 100% of a cap,
tell the team's admins once per period.

The budget policy calls `Alerts.check` right after a reservation (or a refusal); the store
remembers each alert under a unique key, so it goes out once even with several processes.
Chat adapters register a delivery callback per platform; the core never imports them.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.admin_links import base_url
from bot.models import iso, usd
from bot.settings import Settings
from storage.store import Store

if TYPE_CHECKING:  # bot.texts imports the budget policy, which imports this module
    from bot.texts import Markup

log = logging.getLogger(__name__)

THRESHOLDS = (80, 100)
Cap = Literal["daily", "monthly"]


@dataclass(frozen=True)
class Meter:
    """One cap as it stood before a job: whose (None: the whole team), which, how much."""

    user: str | None
    cap: Cap
    used: int
    limit: int | None
    period: str  # the period's start, e.g. 2026-11-25 or 2026-11


@dataclass(frozen=True)
class Alert:
    platform: str
    team: str
    user: str | None
    cap: Cap
    threshold: int
    used: int
    limit: int
    period: str
    dashboard_url: str
    #: The cost of a job refused by this cap, when a refusal raised the alert.
    refused_cost: int | None = None

    def text(self, markup: Markup) -> str:
        whose = f"{markup.mention(self.user)}'s" if self.user else "The team's"
        money = f"{usd(self.used)} of {usd(self.limit)}"
        if self.refused_cost is not None:
            what = (f"{whose} {self.cap} budget has {usd(max(0, self.limit - self.used))} left "
                    f"of {usd(self.limit)}: a {usd(self.refused_cost)} video was refused.")
        elif self.threshold >= 100:
            what = f"{whose} {self.cap} budget is used up ({money})."
        else:
            what = f"{whose} {self.cap} budget is at {self.threshold}% ({money})."
        resets = "tomorrow at 00:00 UTC" if self.cap == "daily" else "on the 1st"
        return f"Budget alert: {what} It resets {resets}. Dashboard: {self.dashboard_url}"


#: Posts an alert to a channel id: what a chat adapter registers for its platform.
Deliver = Callable[[str, Alert], Awaitable[None]]


class Alerts:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._deliverers: dict[str, Deliver] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, platform: str, deliver: Deliver) -> None:
        self._deliverers[platform] = deliver

    def unregister(self, platform: str) -> None:
        self._deliverers.pop(platform, None)

    async def check(self, platform: str, team: str, meters: Iterable[Meter], cost: int,
                    *, refused: bool = False) -> list[Alert]:
        """Alerts for the caps this job's `cost` takes past a threshold (a refused job: past
        100%), each claimed in the store so it is sent once; delivery runs in the background."""
        sent = []
        for m in meters:
            if m.limit is None or m.limit <= 0:
                continue
            after = m.used + cost
            crossed = [t for t in THRESHOLDS if m.used * 100 < t * m.limit <= after * 100]
            if refused:
                crossed = [100] if after > m.limit else []
            # Claim every threshold crossed, announce the highest: 70% -> 100% in one job says
            # "used up" once, and no late "80%" follows.
            claimed = [t for t in crossed if await self.store.claim_alert(
                _key(team, m, t), team, m.user or "", iso(dt.datetime.now(dt.UTC)))]
            if not claimed:
                continue
            used = m.used if refused else min(after, m.limit)
            alert = Alert(platform, team, m.user, m.cap, max(claimed), used, m.limit, m.period,
                          f"{base_url(self.settings)}/budgets", cost if refused else None)
            sent.append(alert)
            self._send(alert)
        return sent

    def channel(self, platform: str) -> str | None:
        return {"discord": self.settings.alert_channel_discord,
                "slack": self.settings.alert_channel_slack}.get(platform)

    def _send(self, alert: Alert) -> None:
        deliver, channel = self._deliverers.get(alert.platform), self.channel(alert.platform)
        if deliver is None or channel is None:
            log.warning("Budget alert for team %s (no alert channel for %s): %s", alert.team,
                        alert.platform, alert.text(_Plain()))
            return
        try:
            task = asyncio.get_running_loop().create_task(self._deliver(deliver, channel, alert))
        except RuntimeError:  # no event loop: nothing can post
            log.warning("Budget alert for team %s not posted: %s", alert.team, alert.text(_Plain()))
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, deliver: Deliver, channel: str, alert: Alert) -> None:
        try:
            await deliver(channel, alert)
            log.info("Posted a %d%% %s budget alert for team %s", alert.threshold, alert.cap,
                     alert.team)
        except Exception:
            log.exception("Posting a budget alert for team %s failed", alert.team)

    async def drain(self) -> None:
        """Wait for alerts being posted (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _key(team: str, m: Meter, threshold: int) -> str:
    return f"{team}|{m.user or ''}|{m.cap}|{m.period}|{threshold}"


class _Plain:
    def mention(self, user: str) -> str:
        return user

    def escape(self, text: str) -> str:
        return text

    def code(self, text: str) -> str:
        return text

    def when(self, moment: dt.datetime) -> str:
        return iso(moment)
