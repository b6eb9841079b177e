"""The admin console's SQL: audited budget changes, sign-in links and sessions, alerts sent,
and the reports the dashboard, the CSV export and /metrics read. A mixin of `Store`, so the
one store object owns every table."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

#: Columns of an audit row that hold caps; None means "no override: the default applies".
CAP_COLUMNS = ("daily_micros", "monthly_micros")


class AdminStore:
    """Mixed into `Store`; relies on its `db` and `_immediate()`."""

    db: Database

    def _immediate(self) -> contextlib.AbstractContextManager[None]:  # provided by Store
        raise NotImplementedError

    # -- budgets, audited ------------------------------------------------------------------

    def change_quota(self, team: str, user: str, caps: dict[str, int | None], *, actor: str,
                     front_end: str, now: str) -> None:
        """Set the named caps and record old -> new in the audit log, in one transaction."""
        with self._immediate():
            old = self._quota_row(team, user)
            self.db.table("quotas").upsert({"team": team, "user": user, **caps, "updated_at": now},
                                     pk=("team", "user"))
            new = self._quota_row(team, user)
            self._audit(team, user, "set", old, new, actor, front_end, now)

    def remove_quota(self, team: str, user: str, *, actor: str, front_end: str, now: str) -> bool:
        """Delete the override (defaults apply again); audited when there was one."""
        with self._immediate():
            old = self._quota_row(team, user)
            if old is None:
                return False
            self.db.execute("DELETE FROM quotas WHERE team = ? AND user = ?", [team, user])
            self._audit(team, user, "clear", old, None, actor, front_end, now)
            return True

    def _quota_row(self, team: str, user: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM quotas WHERE team = ? AND user = ?", [team, user]))
        return rows[0] if rows else None

    def _audit(self, team: str, user: str, action: str, old: dict[str, Any] | None,
               new: dict[str, Any] | None, actor: str, front_end: str, now: str) -> None:
        self.db.execute(
            "INSERT INTO audit_log (team, user, actor, front_end, action, old_daily_micros, "
            "old_monthly_micros, new_daily_micros, new_monthly_micros, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [team, user, actor, front_end, action,
             *((old or {}).get(c) for c in CAP_COLUMNS), *((new or {}).get(c) for c in CAP_COLUMNS),
             now])

    def audit_log(self, team: str, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT * FROM audit_log WHERE team = ? ORDER BY id DESC LIMIT ?", [team, limit]))

    # -- sign-in links and sessions --------------------------------------------------------

    def use_link(self, link_id: str, team: str, now: str) -> bool:
        """Mark a sign-in link used; False when it was used before (by any process)."""
        try:
            self.db.execute("INSERT INTO admin_links_used (link_id, team, used_at) VALUES (?, ?, ?)",
                            [link_id, team, now])
        except sqlite3.IntegrityError:
            return False
        return True

    def link_used(self, link_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM admin_links_used WHERE link_id = ?",
                               [link_id]).fetchone() is not None

    def open_session(self, id_hash: str, team: str, actor: str, expires_at: float, now: str) -> None:
        self.db.execute("INSERT INTO admin_sessions (id_hash, team, actor, created_at, expires_at) "
                        "VALUES (?, ?, ?, ?, ?)", [id_hash, team, actor, now, expires_at])

    def session_row(self, id_hash: str, now: float) -> tuple[str, str, float] | None:
        """(team, actor, expires_at) of a live session."""
        row = self.db.execute("SELECT team, actor, expires_at FROM admin_sessions "
                              "WHERE id_hash = ? AND expires_at > ?", [id_hash, now]).fetchone()
        return (row[0], row[1] or "", row[2]) if row else None

    def close_session(self, id_hash: str) -> None:
        self.db.execute("DELETE FROM admin_sessions WHERE id_hash = ?", [id_hash])

    def purge_sessions(self, now: float) -> None:
        self.db.execute("DELETE FROM admin_sessions WHERE expires_at <= ?", [now])

    # -- alerts ----------------------------------------------------------------------------

    def claim_alert(self, key: str, team: str, user: str, now: str) -> bool:
        """True for the first claimant of `key` only: an alert goes out once."""
        try:
            self.db.execute("INSERT INTO alerts_sent (key, team, user, sent_at) VALUES (?, ?, ?, ?)",
                            [key, team, user, now])
        except sqlite3.IntegrityError:
            return False
        return True

    # -- reports ---------------------------------------------------------------------------

    def ping(self) -> bool:
        return self.db.execute("SELECT 1").fetchone() == (1,)

    def daily_spend(self, team: str, since: str) -> dict[str, int]:
        """Reserved plus spent micro-dollars per UTC day (YYYY-MM-DD) since `since`."""
        return {day: total for day, total in self.db.execute(
            "SELECT substr(created_at, 1, 10) AS day, SUM(amount_micros) FROM ledger "
            "WHERE team = ? AND state != 'released' AND created_at >= ? GROUP BY day ORDER BY day",
            [team, since]).fetchall()}

    def spend_by_user(self, team: str, since: str) -> list[dict[str, Any]]:
        return list(self.db.query("""
            SELECT l.user, MAX(j.user_name) AS user_name, SUM(l.amount_micros) AS micros,
              COUNT(*) AS jobs
            FROM ledger l LEFT JOIN jobs j ON j.id = l.job_id
            WHERE l.team = ? AND l.state != 'released' AND l.created_at >= ?
            GROUP BY l.user ORDER BY micros DESC, l.user
        """, [team, since]))

    def spend_by_model(self, team: str, since: str) -> list[dict[str, Any]]:
        return list(self.db.query("""
            SELECT j.model, SUM(l.amount_micros) AS micros, COUNT(*) AS jobs
            FROM ledger l JOIN jobs j ON j.id = l.job_id
            WHERE l.team = ? AND l.state != 'released' AND l.created_at >= ?
            GROUP BY j.model ORDER BY micros DESC, j.model
        """, [team, since]))

    def members(self, team: str) -> dict[str, str]:
        """Every member who made a job in the team, with the latest display name we saw."""
        return {user: name or user for user, name in self.db.execute(
            "SELECT user, MAX(user_name) FROM jobs WHERE team = ? GROUP BY user ORDER BY user",
            [team]).fetchall()}

    def job_facets(self, team: str) -> dict[str, list[str]]:
        facets = {}
        for column in ("status", "model"):  # our column names, not input
            facets[column] = [r[0] for r in self.db.execute(
                f"SELECT DISTINCT {column} FROM jobs WHERE team = ? ORDER BY 1", [team]).fetchall()]
        return facets

    def find_jobs(self, team: str, *, user: str | None = None, status: str | None = None,
                  model: str | None = None, search: str | None = None, running: bool = False,
                  limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The team's jobs, newest first, with what the ledger charged."""
        clauses, params = ["j.team = ?"], [team]
        for column, value in (("j.user", user), ("j.status", status), ("j.model", model)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if search:
            clauses.append(r"j.prompt LIKE ? ESCAPE '\'")
            params.append("%" + _like_escape(search) + "%")
        if running:
            clauses.append("j.status NOT IN ('delivered', 'failed')")
        return list(self.db.query(f"""
            SELECT j.*, CASE WHEN l.state = 'spent' THEN l.amount_micros ELSE 0 END AS charged_micros,
              l.state AS ledger_state
            FROM jobs j LEFT JOIN ledger l ON l.job_id = j.id
            WHERE {' AND '.join(clauses)}
            ORDER BY j.created_at DESC, j.id LIMIT ? OFFSET ?
        """, [*params, limit, offset]))

    def export_rows(self, team: str) -> Iterator[dict[str, Any]]:
        """One row per job of the team, oldest first, with what the ledger charged."""
        yield from self.db.query("""
            SELECT j.id AS job_id, j.created_at, j.team, j.user, j.user_name, j.platform, j.model,
              j.duration, j.resolution, j.status,
              CASE WHEN l.state = 'spent' THEN l.amount_micros ELSE 0 END AS charged_micros,
              j.error, j.prompt
            FROM jobs j LEFT JOIN ledger l ON l.job_id = j.id
            WHERE j.team = ? ORDER BY j.created_at, j.id
        """, [team])

    def charged_total(self, team: str) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(amount_micros), 0) FROM ledger "
                              "WHERE team = ? AND state = 'spent'", [team]).fetchone()
        return int(row[0])

    # -- metrics ---------------------------------------------------------------------------

    def jobs_by_status(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())

    def spent_by_team(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT team, SUM(amount_micros) FROM ledger WHERE state = 'spent' GROUP BY team"
        ).fetchall())

    def finished_durations(self) -> list[float]:
        """Seconds from request to delivery of every delivered job (for the histogram)."""
        return [float(r[0]) for r in self.db.execute(
            "SELECT (julianday(updated_at) - julianday(created_at)) * 86400.0 FROM jobs "
            "WHERE status = 'delivered'").fetchall()]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
