"""The SQLite store: jobs, the spend ledger and quotas, over one sqlite-utils Database."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sqlite_utils import Database

from storage.admin import AdminStore
from storage.migrations import migrate

UNFINISHED = ("reserved", "waiting", "submitting", "submitted", "downloaded", "unfetched")
Reserved = Literal["reserved", "refused", "duplicate_source", "duplicate_request"]
Moved = Literal["moved", "refused", "settled"]


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
    """Owns the SQLite file. One per process; WAL lets other processes read and wait to write."""

    def __init__(self, path: Path | str, busy_timeout: float = 10.0) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit at the driver level: transactions are ours, explicit, and IMMEDIATE
        # where a read decides a write (see reserve()).
        conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        self.db = Database(conn)
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if str(path) != ":memory:":
            self.db.enable_wal()
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction that takes the lock before its first read."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- budgets ---------------------------------------------------------------------------

    def reserve(self, job: dict[str, Any], day_start: str, month_start: str,
                allow: Allow) -> tuple[Reserved, Spend, QuotaRows]:
        """Insert the job and reserve its cost when `allow` says it fits, atomically across
        processes. 'duplicate': the member already has a live job for the job's `source`.
        Returns the outcome and the spend and caps seen before this job."""
        with self._immediate():
            spend = self._spend(job["team"], job["user"], day_start, month_start)
            quotas = self.quota_rows(job["team"], job["user"])
            if not allow(spend, quotas):
                return "refused", spend, quotas
            try:
                self.db.table("jobs").insert(_encode(job))
            except sqlite3.IntegrityError:
                # A unique key said no: this request, or this member and source, has a job.
                if job.get("request_key") and self._has("request_key = ?", job["request_key"]):
                    return "duplicate_request", spend, quotas
                if job.get("source"):
                    return "duplicate_source", spend, quotas
                raise
            self.db.table("ledger").insert({
                "job_id": job["id"], "team": job["team"], "user": job["user"],
                "amount_micros": job["cost_micros"], "state": "reserved",
                "created_at": job["created_at"], "settled_at": None,
            })
            return "reserved", spend, quotas

    def move_reservation(self, job_id: str, amount_micros: int, day_start: str, month_start: str,
                         allow: Allow, **job_fields: Any) -> tuple[Moved, Spend, QuotaRows]:
        """Change an open reservation to `amount_micros` and update the job (its `cost_micros`
        and `job_fields`), atomically across processes, when `allow` says the new amount fits.
        The spend `allow` sees leaves this job out, as reserve() sees it before the job.
        'settled': the reservation was no longer open; nothing changed."""
        with self._immediate():
            row = self.db.execute("SELECT team, user FROM ledger WHERE job_id = ? AND state = 'reserved'",
                                  [job_id]).fetchone()
            if row is None:
                return "settled", Spend(0, 0, 0, 0), QuotaRows(None, None)
            team, user = row
            spend = self._spend(team, user, day_start, month_start, exclude=job_id)
            quotas = self.quota_rows(team, user)
            if not allow(spend, quotas):
                return "refused", spend, quotas
            self.db.execute("UPDATE ledger SET amount_micros = ? WHERE job_id = ? AND state = 'reserved'",
                            [amount_micros, job_id])
            self._update_job(job_id, {**job_fields, "cost_micros": amount_micros})
            return "moved", spend, quotas

    def spend(self, team: str, user: str, day_start: str, month_start: str) -> tuple[Spend, QuotaRows]:
        return self._spend(team, user, day_start, month_start), self.quota_rows(team, user)

    def _spend(self, team: str, user: str, day_start: str, month_start: str,
               exclude: str = "") -> Spend:
        sql = """
            SELECT
              COALESCE(SUM(CASE WHEN user = :user AND created_at >= :day THEN amount_micros END), 0),
              COALESCE(SUM(CASE WHEN user = :user AND created_at >= :month THEN amount_micros END), 0),
              COALESCE(SUM(CASE WHEN created_at >= :day THEN amount_micros END), 0),
              COALESCE(SUM(amount_micros), 0)
            FROM ledger
            WHERE team = :team AND state != 'released' AND created_at >= :month
              AND job_id != :exclude
        """
        row = self.db.execute(sql, {
            "team": team, "user": user, "day": day_start, "month": month_start, "exclude": exclude,
        }).fetchone()
        return Spend(*row)

    def quota_rows(self, team: str, user: str) -> QuotaRows:
        rows = {r["user"]: r for r in self.db.query(
            "SELECT * FROM quotas WHERE team = ? AND user IN (?, '')", [team, user])}
        return QuotaRows(rows.get(user) if user else None, rows.get(""))

    def settle(self, job_id: str, state: str, **job_fields: Any) -> bool:
        """Move a reservation to 'spent' or 'released' and update the job, in one transaction.
        Only a reservation still open is settled, and the job changes only with it: settling
        twice charges once and leaves the job as the first settlement left it."""
        assert state in ("spent", "released")
        with self._immediate():
            cursor = self.db.execute(
                "UPDATE ledger SET state = ?, settled_at = ? WHERE job_id = ? AND state = 'reserved'",
                [state, now_iso(), job_id],
            )
            if cursor.rowcount != 1:
                return False
            if job_fields:
                self._update_job(job_id, job_fields)
            return True

    # -- leases: one owner per job ---------------------------------------------------------

    def take(self, job_id: str, owner: str, now: float, until: float) -> bool:
        """Become the job's owner if it is unfinished and nobody else holds a live lease on
        it; one atomic update, so of several processes exactly one wins."""
        marks = ", ".join("?" * len(UNFINISHED))
        cursor = self.db.execute(
            f"UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ? AND status IN ({marks}) "
            "AND (owner IS NULL OR owner = ? OR lease_until IS NULL OR lease_until < ?)",
            [owner, until, job_id, *UNFINISHED, owner, now])
        return cursor.rowcount == 1

    def renew(self, owner: str, until: float, job_ids: list[str]) -> set[str]:
        """Extend the leases of every unfinished job `owner` holds. Returns those of `job_ids`
        that another owner has taken meanwhile."""
        marks = ", ".join("?" * len(UNFINISHED))
        ids = ", ".join("?" * len(job_ids))
        with self._immediate():
            self.db.execute(f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND status IN ({marks})",
                            [until, owner, *UNFINISHED])
            rows = self.db.execute(
                f"SELECT id FROM jobs WHERE id IN ({ids}) AND owner IS NOT NULL AND owner != ? "
                f"AND status IN ({marks})", [*job_ids, owner, *UNFINISHED]).fetchall()
        return {r[0] for r in rows}

    def let_go(self, owner: str) -> None:
        """A clean stop: leave our jobs to whoever starts next, at once."""
        self.db.execute("UPDATE jobs SET lease_until = NULL, owner = NULL WHERE owner = ?", [owner])

    def set_quota(self, team: str, user: str, **caps: int | None) -> None:
        """Set `daily_micros` and/or `monthly_micros` for a member (user) or the whole team
        (user ''); a cap not named keeps its value (an upsert updates only the given columns)."""
        self.db.table("quotas").upsert({"team": team, "user": user, **caps, "updated_at": now_iso()},
                                 pk=("team", "user"))

    def clear_quota(self, team: str, user: str) -> bool:
        cursor = self.db.execute("DELETE FROM quotas WHERE team = ? AND user = ?", [team, user])
        return cursor.rowcount > 0

    def quotas(self, team: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(team=team)
        return list(self.db.query(f"SELECT * FROM quotas {where} ORDER BY team, user", params))

    def totals(self, team: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        """All-time spend per (user, team)."""
        where, params = _where(team=team, user=user)
        return list(self.db.query(f"""
            SELECT user, team,
              SUM(CASE WHEN state = 'spent' THEN amount_micros ELSE 0 END) AS spent_micros,
              SUM(CASE WHEN state = 'reserved' THEN amount_micros ELSE 0 END) AS reserved_micros,
              COUNT(*) AS jobs,
              SUM(CASE WHEN state = 'spent' THEN 1 ELSE 0 END) AS jobs_spent,
              MAX(created_at) AS last_job_at
            FROM ledger {where} GROUP BY user, team ORDER BY team, user
        """, params))

    # -- jobs ------------------------------------------------------------------------------

    def update_job(self, job_id: str, **fields: Any) -> None:
        self._update_job(job_id, fields)

    def _update_job(self, job_id: str, fields: dict[str, Any]) -> None:
        # One plain UPDATE: sqlite-utils' Table.update() re-reads the schema and the row,
        # eleven statements on the engine's hot path (benchmarks/README.md).
        values = _encode({**fields, "updated_at": now_iso()})
        assignments = ", ".join(f"[{column}] = ?" for column in values)
        cursor = self.db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?",
                                 [*values.values(), job_id])
        if cursor.rowcount != 1:
            raise KeyError(job_id)

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
        return _decode(rows[0]) if rows else None

    def unfinished_jobs(self) -> list[dict[str, Any]]:
        marks = ", ".join("?" * len(UNFINISHED))
        return [_decode(r) for r in self.db.query(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at", list(UNFINISHED))]

    def recent_jobs(self, team: str | None = None, user: str | None = None,
                    limit: int = 20) -> list[dict[str, Any]]:
        where, params = _where(team=team, user=user)
        return [_decode(r) for r in self.db.query(
            f"SELECT * FROM jobs {where} ORDER BY created_at DESC LIMIT ?", [*params, limit])]

    def held(self, team: str, user: str) -> tuple[int, int]:
        """(micro-dollars, jobs) a member has held for jobs whose outcome is unknown."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(l.amount_micros), 0), COUNT(*) FROM jobs j "
            "JOIN ledger l ON l.job_id = j.id WHERE j.team = ? AND j.user = ? "
            "AND j.status = 'unknown' AND l.state = 'reserved'", [team, user]).fetchone()
        return int(row[0]), int(row[1])

    def has_live_source(self, team: str, user: str, source: str) -> bool:
        """Whether the member has a job for `source` that has not failed (the unique index)."""
        return self._has("team = ? AND user = ? AND source = ? AND status != 'failed'",
                         team, user, source)

    def _has(self, where: str, *params: Any) -> bool:
        return self.db.execute(f"SELECT 1 FROM jobs WHERE {where}", params).fetchone() is not None

    def ledger_state(self, job_id: str) -> str | None:
        row = self.db.execute("SELECT state FROM ledger WHERE job_id = ?", [job_id]).fetchone()
        return row[0] if row else None

    # -- the creative loop: sequences and the video library --------------------------------

    def sequence_jobs(self, sequence: str) -> list[dict[str, Any]]:
        """The clips of a sequence, oldest first: its first job and every job continued from it."""
        return [_decode(r) for r in self.db.query(
            "SELECT * FROM jobs WHERE id = ? OR sequence = ? ORDER BY created_at", [sequence, sequence])]

    def videos_before(self, before: str) -> list[dict[str, Any]]:
        """Jobs created before `before` (ISO) whose video file is still kept."""
        return [_decode(r) for r in self.db.query(
            "SELECT * FROM jobs WHERE video_path IS NOT NULL AND pruned_at IS NULL "
            "AND created_at < ? ORDER BY created_at", [before])]

    def mark_pruned(self, job_id: str, when: str) -> None:
        """The job's video file was deleted; the job and its ledger row stay."""
        self.db.execute("UPDATE jobs SET pruned_at = ? WHERE id = ?", [when, job_id])


def _where(**filters: str | None) -> tuple[str, list[str]]:
    """A WHERE clause matching the filters that are set (column names are ours, not input)."""
    clauses = [f"{column} = ?" for column, value in filters.items() if value]
    params = [value for value in filters.values() if value]
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _encode(fields: dict[str, Any]) -> dict[str, Any]:
    if "origin" in fields:
        fields = {**fields, "origin": json.dumps(fields["origin"] or {})}
    return fields


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "origin": json.loads(row.get("origin") or "{}")}
