"""The store: jobs, the spend ledger and quotas. The one place that owns SQL; every method is
async and runs on either backend (storage/backends.py): SQLite for a path, PostgreSQL for a
postgresql:// URL (`SORA_DB`).

How a store method is written, once, for both backends:

    async def thing(self, team: str, user: str) -> int:
        async with self.db.connection() as tx:          # one statement: autocommit
            row = await tx.fetchone('SELECT COUNT(*) AS n FROM jobs WHERE team = ? '
                                    'AND "user" = ?', [team, user])
        return int(row["n"])

- One statement: `async with self.db.connection() as tx`. A read that decides no write (what
  a member or an admin is shown): `async with self.db.reading() as tx`, which never waits
  for a writer (SQLite: a query-only connection of its own). Several that must commit together:
  `async with self.db.transaction() as tx`; where a read decides a write on a team's money,
  `self.db.transaction(lock=team)` (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock
  on the team, so other teams do not wait). No `await` of anything but `tx` inside a
  transaction; a policy decided inside one is a plain callback (`Allow`).
- SQL: `?` placeholders; quote the `"user"` column; rows come back as dicts, so alias every
  computed column (`COUNT(*) AS n`); wrap sums in `CAST(... AS BIGINT)` (PostgreSQL sums
  integers as numeric); upserts and unique keys go through `INSERT ... ON CONFLICT` and
  `rowcount`, never by catching a driver's IntegrityError (on PostgreSQL a failed statement
  aborts the whole transaction).
- Helpers that run inside a caller's transaction take `tx` as their first argument
  (`_spend(tx, ...)`); a method never opens a second connection while holding one.
- A new column or table is a new migration in storage/migrations.py ({int}/{real}/{id} for
  the types that differ).

Porting a method written for the old synchronous sqlite-utils store, line by line:

    def m(self, ...) -> T:                       ->  async def m(self, ...) -> T:
    with self._immediate(): ...                  ->  async with self.db.transaction(lock=team) as tx:
    (a single statement)                         ->  async with self.db.connection() as tx:
    self.db.execute(sql, p).fetchone()[0]        ->  (await tx.fetchone(sql_with_alias, p))["alias"]
    self.db.execute(sql, p).rowcount             ->  await tx.execute(sql, p)
    list(self.db.query(sql, p))                  ->  await tx.fetchall(sql, p)
    self.db.table("t").insert(row)               ->  INSERT INTO t (cols) VALUES (?, ...)
    self.db.table("t").upsert(row, pk=...)       ->  INSERT ... ON CONFLICT (pk) DO UPDATE SET c = excluded.c
    except sqlite3.IntegrityError                ->  ... ON CONFLICT DO NOTHING, then `if not rowcount`
    :name parameters, [column], user             ->  ? in order, "column", "user"
    db.table("t").create / add_column(...)       ->  CREATE TABLE / ALTER TABLE t ADD COLUMN c TEXT
And at every call site: `store.m(...)` -> `await store.m(...)`, in an `async def`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

from storage.admin import AdminStore
from storage.backends import Database, Tx, open_database, redacted
from storage.migrations import migrate

log = logging.getLogger(__name__)

UNFINISHED = ("reserved", "waiting", "submitting", "submitted", "downloaded", "unfetched")
Reserved = Literal["reserved", "refused", "duplicate_source", "duplicate_request"]
Moved = Literal["moved", "refused", "settled"]
_UNFINISHED_MARKS = ", ".join("?" * len(UNFINISHED))


class Spend(NamedTuple):
    """Reserved plus spent micro-dollars of a member and their team since two instants."""

    user_day: int
    user_month: int
    team_day: int
    team_month: int


class QuotaRows(NamedTuple):
    """The stored cap overrides that apply to a member: theirs and their team's (or None)."""

    user: dict[str, Any] | None
    team: dict[str, Any] | None


#: Decides, inside the reserving transaction, whether a cost fits: the budget policy's call.
Allow = Callable[[Spend, QuotaRows], bool]


def now_iso(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")


class Store(AdminStore):
    """One per process, opened with `await Store.open(SORA_DB)` and closed with `aclose()`.
    Other processes, on this host or others (PostgreSQL), share the database safely."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, target: str | Path, busy_timeout: float = 10.0) -> Store:
        db = await open_database(target, busy_timeout)
        try:
            await migrate(db)
        except BaseException:
            await db.aclose()
            raise
        log.debug("Store open on %s", redacted(target))
        return cls(db)

    async def aclose(self) -> None:
        await self.db.aclose()

    # -- budgets ---------------------------------------------------------------------------

    async def reserve(self, job: dict[str, Any], day_start: str, month_start: str,
                      allow: Allow) -> tuple[Reserved, Spend, QuotaRows]:
        """Insert the job and reserve its cost when `allow` says it fits, atomically across
        processes. 'duplicate_*': a unique key said no (this request, or this member and
        source, has a job). Returns the outcome and the spend and caps seen before this job."""
        async with self.db.transaction(lock=job["team"], durable=True) as tx:
            spend = await _spend(tx, job["team"], job["user"], day_start, month_start)
            quotas = await _quota_rows(tx, job["team"], job["user"])
            if not allow(spend, quotas):
                return "refused", spend, quotas
            row = _encode(job)
            columns = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" * len(row))
            inserted = await tx.execute(
                f"INSERT INTO jobs ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                list(row.values()))
            if not inserted:
                if job.get("request_key") and await _has(tx, "request_key = ?", job["request_key"]):
                    return "duplicate_request", spend, quotas
                if job.get("source"):
                    return "duplicate_source", spend, quotas
                raise KeyError(f"job {job['id']} exists")
            await tx.execute(
                'INSERT INTO ledger (job_id, team, "user", amount_micros, state, created_at, '
                "settled_at) VALUES (?, ?, ?, ?, 'reserved', ?, NULL)",
                [job["id"], job["team"], job["user"], job["cost_micros"], job["created_at"]])
            return "reserved", spend, quotas

    async def move_reservation(self, job_id: str, amount_micros: int, day_start: str,
                               month_start: str, allow: Allow,
                               **job_fields: Any) -> tuple[Moved, Spend, QuotaRows]:
        """Change an open reservation to `amount_micros` and update the job (its `cost_micros`
        and `job_fields`), atomically across processes, when `allow` says the new amount fits.
        The spend `allow` sees leaves this job out, as reserve() sees it before the job.
        'settled': the reservation was no longer open; nothing changed."""
        async with self.db.connection() as tx:
            owner = await tx.fetchone("SELECT team FROM ledger WHERE job_id = ?", [job_id])
        if owner is None:
            return "settled", Spend(0, 0, 0, 0), QuotaRows(None, None)
        # A job's team never changes, so the lock is the right one; the state is read again
        # under it.
        async with self.db.transaction(lock=owner["team"], durable=True) as tx:
            row = await tx.fetchone(
                "SELECT team, \"user\" FROM ledger WHERE job_id = ? AND state = 'reserved'", [job_id])
            if row is None:
                return "settled", Spend(0, 0, 0, 0), QuotaRows(None, None)
            team, user = row["team"], row["user"]
            spend = await _spend(tx, team, user, day_start, month_start, exclude=job_id)
            quotas = await _quota_rows(tx, team, user)
            if not allow(spend, quotas):
                return "refused", spend, quotas
            # settle() takes no team lock: on PostgreSQL it may have settled the row since the
            # read above. The UPDATE says so, and once it has matched, it holds the row.
            if not await tx.execute(
                    "UPDATE ledger SET amount_micros = ? WHERE job_id = ? AND state = 'reserved'",
                    [amount_micros, job_id]):
                return "settled", spend, quotas
            await _update_job(tx, job_id, {**job_fields, "cost_micros": amount_micros})
            return "moved", spend, quotas

    async def spend(self, team: str, user: str, day_start: str,
                    month_start: str) -> tuple[Spend, QuotaRows]:
        async with self.db.reading() as tx:
            return (await _spend(tx, team, user, day_start, month_start),
                    await _quota_rows(tx, team, user))

    async def quota_rows(self, team: str, user: str) -> QuotaRows:
        async with self.db.reading() as tx:
            return await _quota_rows(tx, team, user)

    async def settle(self, job_id: str, state: str, **job_fields: Any) -> bool:
        """Move a reservation to 'spent' or 'released' and update the job, in one transaction.
        Only a reservation still open is settled, and the job changes only with it: settling
        twice charges once and leaves the job as the first settlement left it."""
        assert state in ("spent", "released")
        async with self.db.transaction(durable=True) as tx:
            # PostgreSQL: a second settler waits on the row lock, then finds it not 'reserved'.
            settled = await tx.execute(
                "UPDATE ledger SET state = ?, settled_at = ? WHERE job_id = ? AND state = 'reserved'",
                [state, now_iso(), job_id])
            if settled != 1:
                return False
            if job_fields:
                await _update_job(tx, job_id, job_fields)
            return True

    # -- leases: one owner per job ---------------------------------------------------------

    async def take(self, job_id: str, owner: str, now: float, until: float) -> bool:
        """Become the job's owner if it is unfinished and nobody else holds a live lease on
        it; one atomic update, so of several processes (or hosts) exactly one wins."""
        async with self.db.connection() as tx:
            taken = await tx.execute(
                f"UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ? "
                f"AND status IN ({_UNFINISHED_MARKS}) "
                "AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until < ?)",
                [owner, until, job_id, *UNFINISHED, owner, now])
        return taken == 1

    async def renew(self, owner: str, until: float, job_ids: list[str]) -> set[str]:
        """Extend the leases of every unfinished job `owner` holds. Returns those of `job_ids`
        that another owner has taken meanwhile."""
        ids = ", ".join("?" * len(job_ids))
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND status IN ({_UNFINISHED_MARKS})",
                [until, owner, *UNFINISHED])
            rows = await tx.fetchall(
                f"SELECT id FROM jobs WHERE id IN ({ids}) AND owner IS NOT NULL AND owner != ? "
                f"AND status IN ({_UNFINISHED_MARKS})", [*job_ids, owner, *UNFINISHED]) if job_ids else []
        return {r["id"] for r in rows}

    async def let_go(self, owner: str) -> None:
        """A clean stop: leave our jobs to whoever starts next, at once."""
        async with self.db.connection() as tx:
            await tx.execute("UPDATE jobs SET lease_until = NULL, owner = NULL WHERE owner = ?", [owner])

    # -- quotas ----------------------------------------------------------------------------

    async def set_quota(self, team: str, user: str, **caps: int | None) -> None:
        """Set `daily_micros` and/or `monthly_micros` for a member (user) or the whole team
        (user ''); a cap not named keeps its value (the upsert updates only given columns)."""
        assert set(caps) <= {"daily_micros", "monthly_micros"}, caps
        values = {**caps, "updated_at": now_iso()}
        columns = ", ".join(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values)
        async with self.db.connection() as tx:
            await tx.execute(
                f'INSERT INTO quotas (team, "user", {columns}) VALUES (?, ?{", ?" * len(values)}) '
                f'ON CONFLICT (team, "user") DO UPDATE SET {updates}',
                [team, user, *values.values()])

    async def clear_quota(self, team: str, user: str) -> bool:
        async with self.db.connection() as tx:
            return await tx.execute('DELETE FROM quotas WHERE team = ? AND "user" = ?', [team, user]) > 0

    async def quotas(self, team: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(team=team)
        async with self.db.reading() as tx:
            return await tx.fetchall(f'SELECT * FROM quotas {where} ORDER BY team, "user"', params)

    async def totals(self, team: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        """All-time spend per (user, team)."""
        where, params = _where(team=team, user=user)
        async with self.db.reading() as tx:
            return await tx.fetchall(f"""
                SELECT "user", team,
                  CAST(SUM(CASE WHEN state = 'spent' THEN amount_micros ELSE 0 END) AS BIGINT) AS spent_micros,
                  CAST(SUM(CASE WHEN state = 'reserved' THEN amount_micros ELSE 0 END) AS BIGINT) AS reserved_micros,
                  COUNT(*) AS jobs,
                  CAST(SUM(CASE WHEN state = 'spent' THEN 1 ELSE 0 END) AS BIGINT) AS jobs_spent,
                  MAX(created_at) AS last_job_at
                FROM ledger {where} GROUP BY "user", team ORDER BY team, "user"
            """, params)

    # -- jobs ------------------------------------------------------------------------------

    async def update_job(self, job_id: str, durable: bool = False, **fields: Any) -> None:
        """`durable`: the change must survive a power loss (see SqliteDatabase._connect)."""
        async with self.db.connection(durable=durable) as tx:
            await _update_job(tx, job_id, fields)

    async def get_job(self, job_id: str) -> dict[str, Any] | None:
        async with self.db.connection() as tx:
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", [job_id])
        return _decode(row) if row else None

    async def unfinished_jobs(self) -> list[dict[str, Any]]:
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                f"SELECT * FROM jobs WHERE status IN ({_UNFINISHED_MARKS}) ORDER BY created_at",
                list(UNFINISHED))
        return [_decode(r) for r in rows]

    async def recent_jobs(self, team: str | None = None, user: str | None = None,
                          limit: int = 20) -> list[dict[str, Any]]:
        where, params = _where(team=team, user=user)
        async with self.db.reading() as tx:
            rows = await tx.fetchall(f"SELECT * FROM jobs {where} ORDER BY created_at DESC LIMIT ?",
                                     [*params, limit])
        return [_decode(r) for r in rows]

    async def held(self, team: str, user: str) -> tuple[int, int]:
        """(micro-dollars, jobs) a member has held for jobs whose outcome is unknown."""
        async with self.db.reading() as tx:
            row = await tx.fetchone(
                "SELECT CAST(COALESCE(SUM(l.amount_micros), 0) AS BIGINT) AS micros, COUNT(*) AS n "
                'FROM jobs j JOIN ledger l ON l.job_id = j.id WHERE j.team = ? AND j."user" = ? '
                "AND j.status = 'unknown' AND l.state = 'reserved'", [team, user])
        assert row is not None
        return int(row["micros"]), int(row["n"])

    async def has_live_source(self, team: str, user: str, source: str) -> bool:
        """Whether the member has a job for `source` that has not failed (the unique index)."""
        async with self.db.connection() as tx:
            return await _has(tx, "team = ? AND \"user\" = ? AND source = ? AND status != 'failed'",
                              team, user, source)

    async def ledger_state(self, job_id: str) -> str | None:
        async with self.db.connection() as tx:
            row = await tx.fetchone("SELECT state FROM ledger WHERE job_id = ?", [job_id])
        return row["state"] if row else None

    # -- the creative loop: sequences and the video library --------------------------------

    async def sequence_jobs(self, sequence: str) -> list[dict[str, Any]]:
        """The clips of a sequence, oldest first: its first job and every job continued from it."""
        async with self.db.reading() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM jobs WHERE id = ? OR sequence = ? ORDER BY created_at",
                [sequence, sequence])
        return [_decode(r) for r in rows]

    async def videos_before(self, before: str) -> list[dict[str, Any]]:
        """Jobs created before `before` (ISO) whose video file is still kept."""
        async with self.db.connection() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM jobs WHERE video_path IS NOT NULL AND pruned_at IS NULL "
                "AND created_at < ? ORDER BY created_at", [before])
        return [_decode(r) for r in rows]

    async def mark_pruned(self, job_id: str, when: str) -> None:
        """The job's video file was deleted; the job and its ledger row stay."""
        async with self.db.connection() as tx:
            await tx.execute("UPDATE jobs SET pruned_at = ? WHERE id = ?", [when, job_id])


# -- statements shared by methods, run inside the caller's connection or transaction --------

async def _spend(tx: Tx, team: str, user: str, day_start: str, month_start: str,
                 exclude: str = "") -> Spend:
    row = await tx.fetchone("""
        SELECT
          CAST(COALESCE(SUM(CASE WHEN "user" = ? AND created_at >= ? THEN amount_micros END), 0) AS BIGINT) AS user_day,
          CAST(COALESCE(SUM(CASE WHEN "user" = ? AND created_at >= ? THEN amount_micros END), 0) AS BIGINT) AS user_month,
          CAST(COALESCE(SUM(CASE WHEN created_at >= ? THEN amount_micros END), 0) AS BIGINT) AS team_day,
          CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS team_month
        FROM ledger
        WHERE team = ? AND state != 'released' AND created_at >= ? AND job_id != ?
    """, [user, day_start, user, month_start, day_start, team, month_start, exclude])
    assert row is not None
    return Spend(int(row["user_day"]), int(row["user_month"]), int(row["team_day"]),
                 int(row["team_month"]))


async def _quota_rows(tx: Tx, team: str, user: str) -> QuotaRows:
    rows = {r["user"]: r for r in await tx.fetchall(
        "SELECT * FROM quotas WHERE team = ? AND \"user\" IN (?, '')", [team, user])}
    return QuotaRows(rows.get(user) if user else None, rows.get(""))


async def _update_job(tx: Tx, job_id: str, fields: dict[str, Any]) -> None:
    # One plain UPDATE on the engine's hot path (benchmarks/README.md); column names are
    # ours (the engine's fields), never input.
    values = _encode({**fields, "updated_at": now_iso()})
    assignments = ", ".join(f'"{column}" = ?' for column in values)
    updated = await tx.execute(f"UPDATE jobs SET {assignments} WHERE id = ?",
                               [*values.values(), job_id])
    if updated != 1:
        raise KeyError(job_id)


async def _has(tx: Tx, where: str, *params: Any) -> bool:
    return await tx.fetchone(f"SELECT 1 AS one FROM jobs WHERE {where}", list(params)) is not None


def _where(**filters: str | None) -> tuple[str, list[str]]:
    """A WHERE clause matching the filters that are set (column names are ours, not input)."""
    clauses = [f'"{column}" = ?' for column, value in filters.items() if value]
    params = [value for value in filters.values() if value]
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    if "origin" in fields:
        fields = {**fields, "origin": json.dumps(fields["origin"] or {})}
    return fields


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "origin": json.loads(row.get("origin") or "{}")}
