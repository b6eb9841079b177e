"""The SQLite store: jobs, the spend ledger and quotas, over one sqlite-utils Database."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from storage.migrations import migrate

UNFINISHED = ("reserved", "waiting", "submitting", "submitted", "downloaded")


@dataclass(frozen=True)
class Limits:
    """Caps in micro-dollars; None means no cap."""

    user_daily: int | None = None
    user_monthly: int | None = None
    team_daily: int | None = None
    team_monthly: int | None = None


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

    def fits(self, amount: int) -> bool:
        pairs = (
            (self.limits.user_daily, self.user_day),
            (self.limits.user_monthly, self.user_month),
            (self.limits.team_daily, self.team_day),
            (self.limits.team_monthly, self.team_month),
        )
        return all(cap is None or used + amount <= cap for cap, used in pairs)


def now_iso(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")


class Store:
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

    def reserve(self, job: dict[str, Any], defaults: Limits, windows: Windows) -> tuple[bool, Usage]:
        """Insert the job and reserve its cost if every cap allows it, atomically across
        processes. Returns (reserved?, usage before this job)."""
        with self._immediate():
            usage = self._usage(job["team"], job["user"], defaults, windows)
            if not usage.fits(job["cost_micros"]):
                return False, usage
            self.db["jobs"].insert(_encode(job))
            self.db["ledger"].insert({
                "job_id": job["id"], "team": job["team"], "user": job["user"],
                "amount_micros": job["cost_micros"], "state": "reserved",
                "created_at": job["created_at"], "settled_at": None,
            })
            return True, usage

    def usage(self, team: str, user: str, defaults: Limits, windows: Windows) -> Usage:
        return self._usage(team, user, defaults, windows)

    def _usage(self, team: str, user: str, defaults: Limits, windows: Windows) -> Usage:
        limits = self.limits_for(team, user, defaults)
        sql = """
            SELECT
              COALESCE(SUM(CASE WHEN user = :user AND created_at >= :day THEN amount_micros END), 0),
              COALESCE(SUM(CASE WHEN user = :user AND created_at >= :month THEN amount_micros END), 0),
              COALESCE(SUM(CASE WHEN created_at >= :day THEN amount_micros END), 0),
              COALESCE(SUM(amount_micros), 0)
            FROM ledger
            WHERE team = :team AND state != 'released' AND created_at >= :month
        """
        row = self.db.execute(sql, {
            "team": team, "user": user, "day": windows.day_start, "month": windows.month_start,
        }).fetchone()
        return Usage(limits, *row)

    def limits_for(self, team: str, user: str, defaults: Limits) -> Limits:
        """Per-user and per-team overrides, falling back to the defaults column by column."""
        rows = {r["user"]: r for r in self.db.query(
            "SELECT * FROM quotas WHERE team = ? AND user IN (?, '')", [team, user])}
        mine, team_row = rows.get(user, {}), rows.get("", {})

        def pick(row: dict[str, Any], column: str, default: int | None) -> int | None:
            return row[column] if row.get(column) is not None else default

        return Limits(
            user_daily=pick(mine, "daily_micros", defaults.user_daily),
            user_monthly=pick(mine, "monthly_micros", defaults.user_monthly),
            team_daily=pick(team_row, "daily_micros", defaults.team_daily),
            team_monthly=pick(team_row, "monthly_micros", defaults.team_monthly),
        )

    def settle(self, job_id: str, state: str, **job_fields: Any) -> bool:
        """Move a reservation to 'spent' or 'released' and update the job, in one transaction.
        Only a reservation still open is settled, so settling twice charges once."""
        assert state in ("spent", "released")
        with self._immediate():
            cursor = self.db.execute(
                "UPDATE ledger SET state = ?, settled_at = ? WHERE job_id = ? AND state = 'reserved'",
                [state, now_iso(), job_id],
            )
            if job_fields:
                self._update_job(job_id, job_fields)
            return cursor.rowcount == 1

    def set_quota(self, team: str, user: str, daily: int | object | None, monthly: int | object | None) -> None:
        """Set a cap for a member (user) or the whole team (user ''). Pass `KEEP` to leave one."""
        current = self.db["quotas"].get((team, user)) if self._has_quota(team, user) else {}
        row = {
            "team": team, "user": user,
            "daily_micros": current.get("daily_micros") if daily is KEEP else daily,
            "monthly_micros": current.get("monthly_micros") if monthly is KEEP else monthly,
            "updated_at": now_iso(),
        }
        self.db["quotas"].upsert(row, pk=("team", "user"))

    def clear_quota(self, team: str, user: str) -> bool:
        cursor = self.db.execute("DELETE FROM quotas WHERE team = ? AND user = ?", [team, user])
        return cursor.rowcount > 0

    def _has_quota(self, team: str, user: str) -> bool:
        return bool(self.db.execute(
            "SELECT 1 FROM quotas WHERE team = ? AND user = ?", [team, user]).fetchone())

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

    def ledger_state(self, job_id: str) -> str | None:
        row = self.db.execute("SELECT state FROM ledger WHERE job_id = ?", [job_id]).fetchone()
        return row[0] if row else None


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


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
