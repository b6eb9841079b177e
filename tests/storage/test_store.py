"""The ledger under concurrency: processes race to reserve, and the budget holds to the cent."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import time
from pathlib import Path

from sqlite_utils import Database

from bot.budgets import Budgets
from bot.errors import QuotaExceeded
from bot.settings import Settings
from storage import migrations
from storage.store import Store, now_iso

COST = 320_000  # a 4 s sora-2 video


def _job(n: int, worker: int) -> dict:
    return {"id": f"job_{worker}_{n}", "platform": "cli", "team": "t", "user": "u",
            "prompt": "p", "status": "reserved", "cost_micros": COST,
            "created_at": now_iso(), "origin": {}}


def _racer(db: str, worker: int, tries: int, start: multiprocessing.Barrier, results) -> None:
    budgets = Budgets(Settings(user_daily_usd=5.0), Store(db))
    start.wait()
    won = 0
    for n in range(tries):
        try:
            budgets.reserve(_job(n, worker), dt.datetime.now(dt.UTC))
            won += 1
        except QuotaExceeded:
            pass
    results.put(won)


def test_twenty_concurrent_reservations_in_four_processes_never_overspend(tmp_path: Path):
    db = str(tmp_path / "race.db")
    Store(db).close()  # migrate once up front, like the app's first start
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(4), ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(db, w, 5, start, results)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    won = sum(results.get(timeout=5) for _ in workers)
    store = Store(db)
    [total] = store.totals()
    assert won == 15  # 15 x $0.32 = $4.80; a 16th would pass $5.00
    assert total["reserved_micros"] == 15 * COST <= 5_000_000
    assert total["jobs"] == 15


def test_settling_twice_charges_once(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    budgets = Budgets(Settings(), store)
    budgets.reserve(_job(1, 1), dt.datetime.now(dt.UTC))
    assert store.settle("job_1_1", "spent", status="delivered") is True
    assert store.settle("job_1_1", "released", status="failed") is False
    assert store.ledger_state("job_1_1") == "spent"
    assert store.get_job("job_1_1")["status"] == "delivered"  # changed only with its ledger row


def test_budgets_reset_with_the_utc_day(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    budgets = Budgets(Settings(user_daily_usd=0.50), store)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    job = {**_job(1, 1), "created_at": now_iso(yesterday)}
    budgets.reserve(job, yesterday)
    assert budgets.status("t", "u").left_today == 500_000
    assert budgets.status("t", "u", yesterday).left_today == 500_000 - COST


def _hold_lock(db: str, locked, seconds: float) -> None:
    store = Store(db)
    store.db.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    store.db.execute("COMMIT")


def test_a_second_process_waits_for_the_lock_instead_of_failing(tmp_path: Path):
    db = str(tmp_path / "s.db")
    store = Store(db, busy_timeout=5)
    ctx = multiprocessing.get_context("fork")
    locked = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(db, locked, 0.5))
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    store.set_quota("t", "u", daily_micros=1, monthly_micros=2)  # "database is locked" without a busy timeout
    waited = time.monotonic() - started
    holder.join(10)
    assert waited >= 0.2
    assert store.quotas()[0]["daily_micros"] == 1


def test_a_moved_reservation_changes_amount_and_job_together_or_not_at_all(tmp_path: Path):
    store = Store(tmp_path / "move.db")
    budgets = Budgets(Settings(user_daily_usd=1.0), store)
    now = dt.datetime.now(dt.UTC)
    budgets.reserve({**_job(1, 0), "model": "sora-2"}, now)            # $0.32
    budgets.reserve({**_job(2, 0), "model": "sora-2"}, now)            # $0.32
    budgets.move("job_0_1", COST, 600_000, now, model="backup")        # 0.60 + 0.32 <= 1.00
    assert store.get_job("job_0_1")["model"] == "backup"
    assert store.get_job("job_0_1")["cost_micros"] == 600_000
    try:
        budgets.move("job_0_2", COST, 500_000, now, model="backup")    # 0.60 + 0.50 > 1.00
        raise AssertionError("the rise should not fit")
    except QuotaExceeded as refused:
        assert "costs $0.50 but your daily budget has $0.40 left of $1.00" in refused.user_message
    assert store.get_job("job_0_2")["model"] == "sora-2"
    assert [t["reserved_micros"] for t in store.totals()] == [920_000]
    budgets.move("job_0_1", 600_000, 100_000, now, model="cheap")      # a drop always fits
    assert store.totals()[0]["reserved_micros"] == 420_000
    store.settle("job_0_1", "released", status="failed")
    assert store.move_reservation("job_0_1", 1, "", "", lambda *_: True)[0] == "settled"


def test_m003_keeps_the_requested_model_of_jobs_stored_before_it(tmp_path: Path):
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(str(path), isolation_level=None))
    for number, step in enumerate(migrations.MIGRATIONS[:2], start=1):
        step(db)
        db.execute(f"PRAGMA user_version = {number}")
    db["jobs"].insert({**_job(1, 0), "model": "sora-2-pro", "origin": "{}"})
    db.close()
    store = Store(path)
    assert store.get_job("job_0_1")["requested_model"] == "sora-2-pro"
