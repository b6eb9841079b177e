"""Budget alerts in the core: 80% and 100% of each cap, once per period, remembered in the
store so a second process does not repeat them; logged when no channel is set."""
from __future__ import annotations

import logging

import pytest

from bot.alerts import Alert, Alerts, Meter
from bot.errors import QuotaExceeded
from bot.models import Requester, VideoRequest
from storage.store import Store
from tests.fakes.recorder import RecordingEvents

ANN = Requester("discord", "guild1", "ann")


class Inbox:
    """A chat front end's delivery callback: what it was asked to post, and where."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, Alert]] = []

    async def __call__(self, channel: str, alert: Alert) -> None:
        self.posted.append((channel, alert))


async def _job(runtime, requester: Requester = ANN) -> None:
    accepted = await runtime.engine.submit(VideoRequest("a fox"), requester, RecordingEvents())
    await runtime.engine.wait(accepted.job.id)


async def test_80_then_100_percent_once_each(runtime, settings, stand_in) -> None:
    runtime.budgets.alerts.settings = settings.with_(alert_channel_discord="4444")
    inbox = Inbox()
    runtime.budgets.alerts.register("discord", inbox)
    await runtime.budgets.set("guild1", "ann", daily=1.60, by="admin", via="discord")  # 5 jobs of $0.32
    for expected in (0, 0, 0, 1, 2):
        await _job(runtime)
        await runtime.budgets.alerts.drain()
        assert len(inbox.posted) == expected
    with pytest.raises(QuotaExceeded):  # past the cap: refused, and nothing new to say
        await runtime.engine.submit(VideoRequest("one more"), ANN, RecordingEvents())
    await runtime.budgets.alerts.drain()
    assert [(c, a.user, a.cap, a.threshold) for c, a in inbox.posted] == [
        ("4444", "ann", "daily", 80), ("4444", "ann", "daily", 100)]
    first, second = (a.text(_Markup()) for _, a in inbox.posted)
    assert "@ann's daily budget is at 80% ($1.28 of $1.60)" in first
    assert "used up ($1.60 of $1.60)" in second and "/budgets" in second


async def test_a_refusal_says_the_cap_is_used_up_once(runtime, settings, stand_in) -> None:
    runtime.budgets.alerts.settings = settings.with_(alert_channel_discord="4444")
    inbox = Inbox()
    runtime.budgets.alerts.register("discord", inbox)
    await runtime.budgets.set("guild1", None, daily=0.50, by="admin", via="discord")  # the team's cap
    await _job(runtime)  # $0.32: 64%, no alert
    for _ in range(2):
        with pytest.raises(QuotaExceeded):
            await runtime.budgets.ensure_room("guild1", "bob", 320_000, "discord")
    await runtime.budgets.alerts.drain()
    [(_, alert)] = inbox.posted
    assert (alert.user, alert.threshold, alert.refused_cost) == (None, 100, 320_000)
    assert "The team's daily budget has $0.18 left of $0.50: a $0.32 video was refused" in alert.text(_Markup())


async def test_once_across_processes(settings) -> None:
    stores = [await Store.open(settings.database) for _ in range(2)]
    meters = [Meter("ann", "monthly", 70, 100, "2026-11")]
    try:
        fired = [await Alerts(settings, s).check("cli", "t", meters, 15) for s in stores]
        assert [len(f) for f in fired] == [1, 0]
        next_month = [Meter("ann", "monthly", 70, 100, "2026-12")]
        assert len(await Alerts(settings, stores[1]).check("cli", "t", next_month, 15)) == 1
    finally:
        for s in stores:
            await s.aclose()


async def test_without_a_channel_the_alert_is_logged(runtime, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.alerts")
    sent = await runtime.budgets.alerts.check("slack", "T1", [Meter(None, "daily", 0, 100, "2026-11-25")], 100)
    assert len(sent) == 1
    assert "no alert channel for slack" in caplog.text and "The team's daily budget is used up" in caplog.text


class _Markup:
    def mention(self, user: str) -> str:
        return f"@{user}"

    def escape(self, text: str) -> str:
        return text

    def code(self, text: str) -> str:
        return text

    def when(self, moment) -> str:
        return str(moment)
