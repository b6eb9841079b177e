"""The admin console's SQL (storage/admin.py) on both backends: once-only keys under a race
without aborting anything, audited changes in one transaction, reports with integer sums."""
from __future__ import annotations

import asyncio

import pytest

from storage.store import Store, now_iso


@pytest.fixture
async def store(db_target: str):
    opened = await Store.open(db_target)
    try:
        yield opened
    finally:
        await opened.aclose()


def _job(n: int, **extra: object) -> dict:
    return {"id": f"job_{n}", "platform": "cli", "team": "t", "user": "u", "prompt": "p",
            "status": "reserved", "cost_micros": 1_000, "created_at": now_iso(), "origin": {},
            **extra}


async def test_a_link_and_an_alert_are_claimed_once_in_a_race(store: Store) -> None:
    now = now_iso()
    links = await asyncio.gather(*(store.use_link("L1", "t", now) for _ in range(6)))
    alerts = await asyncio.gather(*(store.claim_alert("k", "t", "u", now) for _ in range(6)))
    assert sorted(links) == [False] * 5 + [True] and sorted(alerts) == [False] * 5 + [True]
    assert await store.link_used("L1") and not await store.link_used("L2")
    assert await store.ping()  # the connection is fine after the conflicts


async def test_quota_changes_are_audited_old_to_new(store: Store) -> None:
    now = now_iso()
    await store.change_quota("t", "u", {"daily_micros": 2_000_000}, actor="a", front_end="cli", now=now)
    await store.change_quota("t", "u", {"monthly_micros": None}, actor="a", front_end="web", now=now)
    assert await store.remove_quota("t", "u", actor="b", front_end="slack", now=now)
    assert not await store.remove_quota("t", "u", actor="b", front_end="slack", now=now)
    audit = await store.audit_log("t")
    assert [(a["action"], a["front_end"], a["old_daily_micros"], a["new_daily_micros"])
            for a in audit] == [("clear", "slack", 2_000_000, None), ("set", "web", 2_000_000, 2_000_000),
                                ("set", "cli", None, 2_000_000)]
    assert await store.quotas("t") == []


async def test_sessions_live_until_they_expire(store: Store) -> None:
    await store.open_session("h1", "t", "ann", 100.0, now_iso())
    assert await store.session_row("h1", 50.0) == ("t", "ann", 100.0)
    assert await store.session_row("h1", 100.0) is None
    await store.purge_sessions(100.0)
    await store.open_session("h1", "t", "ann", 200.0, now_iso())  # the purged id is free again
    await store.close_session("h1")
    assert await store.session_row("h1", 0.0) is None


async def test_reports_sum_to_integers_and_search_escapes_wildcards(store: Store) -> None:
    allow = lambda spend, rows: True  # noqa: E731
    day, month = "2000-01-01", "2000-01-01"
    for n, prompt in enumerate(["A Fox", "100% cat", "a_b"]):
        assert (await store.reserve(_job(n, prompt=prompt, model="sora-2"), day, month, allow))[0] == "reserved"
    await store.settle("job_0", "spent", status="delivered")
    assert await store.charged_total("t") == 1_000
    assert await store.spent_by_team() == {"t": 1_000}
    assert await store.jobs_by_status() == {"delivered": 1, "reserved": 2}
    [by_user] = await store.spend_by_user("t", day)
    assert (by_user["user"], by_user["micros"], by_user["jobs"]) == ("u", 3_000, 3)
    assert sum((await store.daily_spend("t", day)).values()) == 3_000
    assert [r["prompt"] for r in await store.find_jobs("t", search="fox")] == ["A Fox"]
    assert [r["prompt"] for r in await store.find_jobs("t", search="%")] == ["100% cat"]
    assert [r["prompt"] for r in await store.find_jobs("t", search="_")] == ["a_b"]
    [seconds] = await store.finished_durations()
    assert 0 <= seconds < 60
    assert await store.members("t") == {"u": "u"}
    assert (await store.job_facets("t"))["status"] == ["delivered", "reserved"]
