"""The ledger under concurrency, on both backends: processes race to reserve, and the budget
holds to the cent; leases give each job one owner; migrations run once."""
from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from bot.budgets import Budgets
from bot.errors import AlreadyStarted, DuplicateRequest, QuotaExceeded
from bot.settings import Settings
from storage import migrations
from storage.backends import open_database, redacted
from storage.store import Store, now_iso

COST = 320_000  # a 4 s sora-2 video


def _job(n: int, worker: int, **extra: object) -> dict:
    return {"id": f"job_{worker}_{n}", "platform": "cli", "team": "t", "user": "u",
            "prompt": "p", "status": "reserved", "cost_micros": COST,
            "created_at": now_iso(), "origin": {}, **extra}


async def _race(db: str, worker: int, tries: int, daily: float) -> int:
    store = await Store.open(db)
    budgets = Budgets(Settings(user_daily_usd=daily), store)
    won = 0
    try:
        for n in range(tries):
            try:
                await budgets.reserve(_job(n, worker), dt.datetime.now(dt.UTC))
                won += 1
            except QuotaExceeded:
                pass
    finally:
        await store.aclose()
    return won


def _racer(db: str, worker: int, tries: int, daily: float, start, results) -> None:
    start.wait()
    results.put(asyncio.run(_race(db, worker, tries, daily)))


def _race_processes(db: str, processes: int, tries: int, daily: float) -> int:
    # spawn, not fork: by now this process has threads (the SQLite worker, executors), and a
    # forked child can inherit one of their locks held, and hang.
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(db, w, tries, daily, start, results))
               for w in range(processes)]
    for w in workers:
        w.start()
    won = sum(results.get(timeout=60) for _ in workers)
    for w in workers:
        w.join(30)
    return won


async def _totals(db: str) -> list[dict]:
    store = await Store.open(db)
    try:
        return await store.totals()
    finally:
        await store.aclose()


def test_twelve_processes_racing_a_two_dollar_cap_pass_exactly_six_jobs(db_target: str):
    asyncio.run(_totals(db_target))  # migrate once up front, like the app's first start
    won = _race_processes(db_target, 12, 2, 2.0)
    [total] = asyncio.run(_totals(db_target))
    assert won == 6  # 6 x $0.32 = $1.92; a 7th would pass $2.00
    assert total["reserved_micros"] == 6 * COST <= 2_000_000
    assert total["jobs"] == 6


def test_twenty_reservations_in_four_processes_never_overspend(db_target: str):
    won = _race_processes(db_target, 4, 5, 5.0)  # they migrate together, too
    [total] = asyncio.run(_totals(db_target))
    assert won == 15  # 15 x $0.32 = $4.80; a 16th would pass $5.00
    assert total["reserved_micros"] == 15 * COST


@pytest.fixture
async def store(db_target: str):
    opened = await Store.open(db_target)
    yield opened
    await opened.aclose()


async def test_settling_twice_charges_once(store: Store):
    await Budgets(Settings(), store).reserve(_job(1, 1), dt.datetime.now(dt.UTC))
    assert await store.settle("job_1_1", "spent", status="delivered") is True
    assert await store.settle("job_1_1", "released", status="failed") is False
    assert await store.ledger_state("job_1_1") == "spent"
    assert (await store.get_job("job_1_1"))["status"] == "delivered"  # changed only with its ledger row


async def test_concurrent_settlements_charge_once(store: Store):
    await Budgets(Settings(), store).reserve(_job(1, 1), dt.datetime.now(dt.UTC))
    outcomes = await asyncio.gather(*(store.settle("job_1_1", state, status=state)
                                      for state in ["spent", "released"] * 5))
    assert outcomes.count(True) == 1
    assert (await store.totals())[0]["jobs"] == 1


async def test_budgets_reset_with_the_utc_day(store: Store):
    budgets = Budgets(Settings(user_daily_usd=0.50), store)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    await budgets.reserve({**_job(1, 1), "created_at": now_iso(yesterday)}, yesterday)
    assert (await budgets.status("t", "u")).left_today == 500_000
    assert (await budgets.status("t", "u", yesterday)).left_today == 500_000 - COST


async def test_unique_keys_map_to_the_same_outcomes(store: Store):
    budgets = Budgets(Settings(user_daily_usd=None), store)
    now = dt.datetime.now(dt.UTC)
    await budgets.reserve(_job(1, 0, request_key="trigger-1", source="c/1"), now)
    with pytest.raises(DuplicateRequest):  # Slack retried the same trigger
        await budgets.reserve(_job(2, 0, request_key="trigger-1"), now)
    with pytest.raises(AlreadyStarted):    # a second reaction on the same message
        await budgets.reserve(_job(3, 0, source="c/1"), now)
    assert await store.has_live_source("t", "u", "c/1")
    await store.settle("job_0_1", "released", status="failed")
    await budgets.reserve(_job(4, 0, source="c/1"), now)  # a failed job leaves the index
    assert [t["jobs"] for t in await store.totals()] == [2]


async def test_quotas_upsert_only_the_caps_given(store: Store):
    await store.set_quota("t", "u", daily_micros=1, monthly_micros=2)
    await store.set_quota("t", "u", daily_micros=5)
    await store.set_quota("t", "", monthly_micros=9)
    assert [(q["user"], q["daily_micros"], q["monthly_micros"]) for q in await store.quotas("t")] == [
        ("", None, 9), ("u", 5, 2)]
    assert await store.clear_quota("t", "u") and not await store.clear_quota("t", "u")


async def test_a_moved_reservation_changes_amount_and_job_together_or_not_at_all(store: Store):
    budgets = Budgets(Settings(user_daily_usd=1.0), store)
    now = dt.datetime.now(dt.UTC)
    await budgets.reserve({**_job(1, 0), "model": "sora-2"}, now)            # $0.32
    await budgets.reserve({**_job(2, 0), "model": "sora-2"}, now)            # $0.32
    await budgets.move("job_0_1", COST, 600_000, now, model="backup")        # 0.60 + 0.32 <= 1.00
    assert (await store.get_job("job_0_1"))["model"] == "backup"
    assert (await store.get_job("job_0_1"))["cost_micros"] == 600_000
    with pytest.raises(QuotaExceeded) as refused:
        await budgets.move("job_0_2", COST, 500_000, now, model="backup")    # 0.60 + 0.50 > 1.00
    assert "costs $0.50 but your daily budget has $0.40 left of $1.00" in refused.value.user_message
    assert (await store.get_job("job_0_2"))["model"] == "sora-2"
    assert [t["reserved_micros"] for t in await store.totals()] == [920_000]
    await budgets.move("job_0_1", 600_000, 100_000, now, model="cheap")      # a drop always fits
    assert (await store.totals())[0]["reserved_micros"] == 420_000
    await store.settle("job_0_1", "released", status="failed")
    assert (await store.move_reservation("job_0_1", 1, "", "", lambda *_: True))[0] == "settled"


async def test_a_live_lease_holds_and_a_lapsed_one_is_taken_once(store: Store):
    await Budgets(Settings(), store).reserve(_job(1, 0, owner="a", lease_until=time.time() + 60),
                                             dt.datetime.now(dt.UTC))
    now = time.time()
    assert not await store.take("job_0_1", "b", now, now + 5)      # a's lease holds
    assert await store.renew("a", now + 60, ["job_0_1"]) == set()
    later = now + 120                                              # a died; its lease ran out
    won = await asyncio.gather(*(store.take("job_0_1", f"p{n}", later, later + 5) for n in range(8)))
    assert won.count(True) == 1
    assert await store.renew("a", later, ["job_0_1"]) == {"job_0_1"}  # a learns it lost the job
    await store.settle("job_0_1", "spent", status="delivered")
    assert not await store.take("job_0_1", "c", later + 100, later + 105)  # finished: nobody's


async def test_migrations_run_once_when_processes_start_together(db_target: str):
    stores = await asyncio.gather(*(Store.open(db_target) for _ in range(4)))
    await stores[0].set_quota("t", "u", daily_micros=1)
    for s in stores:
        assert len(await s.quotas()) == 1
        await s.aclose()


async def test_m003_keeps_the_requested_model_of_jobs_stored_before_it(db_target: str):
    db = await open_database(db_target)
    await migrations.migrate(db, upto=2)
    async with db.connection() as tx:
        await tx.execute("INSERT INTO jobs (id, platform, team, \"user\", prompt, status, created_at, "
                         "model) VALUES ('job_0_1', 'cli', 't', 'u', 'p', 'reserved', ?, 'sora-2-pro')",
                         [now_iso()])
    await db.aclose()
    store = await Store.open(db_target)
    assert (await store.get_job("job_0_1"))["requested_model"] == "sora-2-pro"
    await store.aclose()


def test_a_database_url_is_named_without_its_password():
    assert redacted("postgresql://bot:s3cret@db.internal:5432/sora") == "postgresql://bot:***@db.internal:5432/sora"
    assert redacted("data/sora.db") == "data/sora.db"


async def test_an_unreachable_server_is_named_without_its_password(unused_tcp_port: int):
    url = f"postgresql://bot:s3cret-pw@127.0.0.1:{unused_tcp_port}/sora?connect_timeout=1"
    with pytest.raises(ConnectionError) as failed:
        await Store.open(url)
    assert "s3cret-pw" not in str(failed.value) and "bot:***@127.0.0.1" in str(failed.value)


async def test_on_postgresql_a_reservation_waits_only_for_its_own_team(db_target: str):
    if not db_target.startswith("postgresql://"):
        pytest.skip("SQLite's write lock covers the whole file, by design")
    import psycopg

    store = await Store.open(db_target)
    budgets = Budgets(Settings(), store)
    now = dt.datetime.now(dt.UTC)
    async with await psycopg.AsyncConnection.connect(db_target) as other:
        # Another host is mid-reservation for team "a": it holds a's lock.
        await other.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["a"])
        await asyncio.wait_for(budgets.reserve(_job(1, 0, team="b"), now), 5)  # b does not wait
        waiting = asyncio.create_task(budgets.reserve(_job(2, 0, team="a"), now))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # a waits for a
        await other.rollback()
        await asyncio.wait_for(waiting, 5)
    assert sorted(t["team"] for t in await store.totals()) == ["a", "b"]
    await store.aclose()


# -- SQLite only: the file's own lock ------------------------------------------------------------

def _hold_lock(db: str, locked, seconds: float) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")


async def test_a_second_process_waits_for_the_sqlite_lock_without_stalling_the_loop(tmp_path: Path):
    db = str(tmp_path / "s.db")
    store = await Store.open(db, busy_timeout=5)
    ctx = multiprocessing.get_context("spawn")  # the store's worker thread exists: no fork
    locked = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(db, locked, 0.5))
    holder.start()
    assert await asyncio.to_thread(locked.wait, 10)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    await store.set_quota("t", "u", daily_micros=1, monthly_micros=2)  # waits, does not fail
    waited = time.monotonic() - started
    ticker.cancel()
    await asyncio.to_thread(holder.join, 10)
    assert waited >= 0.2
    assert ticks >= 10  # the event loop kept running while the store waited
    assert (await store.quotas())[0]["daily_micros"] == 1
    await store.aclose()


async def test_commits_that_guard_money_are_durable_the_rest_relaxed(store) -> None:
    """SQLite: most commits wait for the next checkpoint (NORMAL); those that must survive a
    power loss (money, the mark before a submit) are fsynced (FULL). PostgreSQL commits are
    all durable, and says nothing of this pragma."""
    if store.db.dialect != "sqlite":
        pytest.skip("synchronous is SQLite's; every PostgreSQL commit is durable")
    levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

    async def level(durable: bool) -> str:
        async with store.db.transaction(durable=durable) as tx:
            row = await tx.fetchone("PRAGMA synchronous")
        return levels[int(next(iter(row.values())))]

    assert await level(durable=False) == "NORMAL"
    assert await level(durable=True) == "FULL"
    assert await level(durable=False) == "NORMAL"  # back to relaxed afterwards


async def test_a_budget_read_does_not_wait_for_a_commit_in_progress(store) -> None:
    """A slash command's pre-check reads the member's spend while another job's transaction
    holds the writer (on SQLite, a commit and its fsync): the read answers at once, and sees
    every commit made before it, not the one still open."""
    budgets = Budgets(Settings(user_daily_usd=5.0), store)
    await budgets.reserve(_job(1, 0), dt.datetime.now(dt.UTC))
    day = now_iso()[:10]
    holding, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with store.db.transaction(lock="t") as tx:
            await tx.execute("UPDATE ledger SET amount_micros = ? WHERE job_id = ?",
                             [2 * COST, "job_0_1"])
            holding.set()
            await release.wait()

    held = asyncio.create_task(writer())
    await holding.wait()
    try:
        spend, _ = await asyncio.wait_for(store.spend("t", "u", day, day[:8] + "01"), timeout=2)
    finally:
        release.set()
        await held
    assert spend.user_day == COST  # the committed reservation, not the open change
    spend, _ = await store.spend("t", "u", day, day[:8] + "01")
    assert spend.user_day == 2 * COST
