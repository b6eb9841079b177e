"""The admin console's SQL: audited budget changes, sign-in links and sessions, alerts sent,
and the reports the dashboard, the CSV export and /metrics read. A mixin of `Store`, so the
one store object owns every table. Written as the store's docstring says: async, `?`
placeholders, quoted "user", aliased and BIGINT-cast sums, unique keys by ON CONFLICT DO
NOTHING and the row count, so the same SQL runs on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.backends import Database, Tx

#: Columns of an audit row that hold caps; None means "no override: the default applies".
CAP_COLUMNS = ("daily_micros", "monthly_micros")


class AdminStore:
    """Mixed into `Store`; relies on its `db`."""

    db: Database

    # -- budgets, audited ------------------------------------------------------------------

    async def change_quota(self, team: str, user: str, caps: dict[str, int | None], *,
                           actor: str, front_end: str, now: str) -> None:
        """Set the named caps and record old -> new in the audit log, in one transaction."""
        assert set(caps) <= set(CAP_COLUMNS), caps
        values = {**caps, "updated_at": now}
        columns = ", ".join(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values)
        async with self.db.transaction(lock=team) as tx:
            old = await _quota_row(tx, team, user)
            await tx.execute(
                f'INSERT INTO quotas (team, "user", {columns}) VALUES (?, ?{", ?" * len(values)}) '
                f'ON CONFLICT (team, "user") DO UPDATE SET {updates}',
                [team, user, *values.values()])
            new = await _quota_row(tx, team, user)
            await _audit(tx, team, user, "set", old, new, actor, front_end, now)

    async def remove_quota(self, team: str, user: str, *, actor: str, front_end: str,
                           now: str) -> bool:
        """Delete the override (defaults apply again); audited when there was one."""
        async with self.db.transaction(lock=team) as tx:
            old = await _quota_row(tx, team, user)
            if old is None:
                return False
            await tx.execute('DELETE FROM quotas WHERE team = ? AND "user" = ?', [team, user])
            await _audit(tx, team, user, "clear", old, None, actor, front_end, now)
            return True

    async def audit_log(self, team: str, limit: int = 200) -> list[dict[str, Any]]:
        async with self.db.reading() as tx:
            return await tx.fetchall(
                "SELECT * FROM audit_log WHERE team = ? ORDER BY id DESC LIMIT ?", [team, limit])

    # -- sign-in links and sessions --------------------------------------------------------

    async def use_link(self, link_id: str, team: str, now: str) -> bool:
        """Mark a sign-in link used; False when it was used before (by any process)."""
        async with self.db.connection() as tx:
            return await tx.execute(
                "INSERT INTO admin_links_used (link_id, team, used_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING", [link_id, team, now]) == 1

    async def link_used(self, link_id: str) -> bool:
        async with self.db.connection() as tx:
            return await tx.fetchone("SELECT 1 AS one FROM admin_links_used WHERE link_id = ?",
                                     [link_id]) is not None

    async def open_session(self, id_hash: str, team: str, actor: str, expires_at: float,
                           now: str) -> None:
        async with self.db.connection() as tx:
            await tx.execute("INSERT INTO admin_sessions (id_hash, team, actor, created_at, "
                             "expires_at) VALUES (?, ?, ?, ?, ?)",
                             [id_hash, team, actor, now, expires_at])

    async def session_row(self, id_hash: str, now: float) -> tuple[str, str, float] | None:
        """(team, actor, expires_at) of a live session."""
        async with self.db.connection() as tx:
            row = await tx.fetchone("SELECT team, actor, expires_at FROM admin_sessions "
                                    "WHERE id_hash = ? AND expires_at > ?", [id_hash, now])
        return (row["team"], row["actor"] or "", float(row["expires_at"])) if row else None

    async def close_session(self, id_hash: str) -> None:
        async with self.db.connection() as tx:
            await tx.execute("DELETE FROM admin_sessions WHERE id_hash = ?", [id_hash])

    async def purge_sessions(self, now: float) -> None:
        async with self.db.connection() as tx:
            await tx.execute("DELETE FROM admin_sessions WHERE expires_at <= ?", [now])

    # -- alerts ----------------------------------------------------------------------------

    async def claim_alert(self, key: str, team: str, user: str, now: str) -> bool:
        """True for the first claimant of `key` only: an alert goes out once."""
        async with self.db.connection() as tx:
            return await tx.execute(
                'INSERT INTO alerts_sent (key, team, "user", sent_at) VALUES (?, ?, ?, ?) '
                "ON CONFLICT DO NOTHING", [key, team, user, now]) == 1

    # -- reports ---------------------------------------------------------------------------

    async def ping(self) -> bool:
        async with self.db.connection() as tx:
            row = await tx.fetchone("SELECT 1 AS one")
        return row is not None and row["one"] == 1

    async def daily_spend(self, team: str, since: str) -> dict[str, int]:
        """Reserved plus spent micro-dollars per UTC day (YYYY-MM-DD) since `since`."""
        async with self.db.reading() as tx:
            rows = await tx.fetchall(
                "SELECT substr(created_at, 1, 10) AS day, CAST(SUM(amount_micros) AS BIGINT) AS micros "
                "FROM ledger WHERE team = ? AND state != 'released' AND created_at >= ? "
                "GROUP BY substr(created_at, 1, 10) ORDER BY day", [team, since])
        return {r["day"]: int(r["micros"]) for r in rows}

    async def spend_by_user(self, team: str, since: str) -> list[dict[str, Any]]:
        async with self.db.reading() as tx:
            rows = await tx.fetchall("""
                SELECT l."user" AS "user", MAX(j.user_name) AS user_name,
                  CAST(SUM(l.amount_micros) AS BIGINT) AS micros, COUNT(*) AS jobs
                FROM ledger l LEFT JOIN jobs j ON j.id = l.job_id
                WHERE l.team = ? AND l.state != 'released' AND l.created_at >= ?
                GROUP BY l."user" ORDER BY micros DESC, l."user"
            """, [team, since])
        return [{**r, "micros": int(r["micros"]), "jobs": int(r["jobs"])} for r in rows]

    async def spend_by_model(self, team: str, since: str) -> list[dict[str, Any]]:
        async with self.db.reading() as tx:
            rows = await tx.fetchall("""
                SELECT j.model AS model, CAST(SUM(l.amount_micros) AS BIGINT) AS micros,
                  COUNT(*) AS jobs
                FROM ledger l JOIN jobs j ON j.id = l.job_id
                WHERE l.team = ? AND l.state != 'released' AND l.created_at >= ?
                GROUP BY j.model ORDER BY micros DESC, j.model
            """, [team, since])
        return [{**r, "micros": int(r["micros"]), "jobs": int(r["jobs"])} for r in rows]

    async def members(self, team: str) -> dict[str, str]:
        """Every member who made a job in the team, with the latest display name we saw."""
        async with self.db.reading() as tx:
            rows = await tx.fetchall(
                'SELECT "user" AS "user", MAX(user_name) AS name FROM jobs WHERE team = ? '
                'GROUP BY "user" ORDER BY "user"', [team])
        return {r["user"]: r["name"] or r["user"] for r in rows}

    async def job_facets(self, team: str) -> dict[str, list[str]]:
        facets = {}
        async with self.db.reading() as tx:
            for column in ("status", "model"):  # our column names, not input
                rows = await tx.fetchall(
                    f"SELECT DISTINCT {column} AS value FROM jobs WHERE team = ? ORDER BY 1",
                    [team])
                facets[column] = [r["value"] for r in rows]
        return facets

    async def find_jobs(self, team: str, *, user: str | None = None, status: str | None = None,
                        model: str | None = None, search: str | None = None,
                        running: bool = False, limit: int = 50,
                        offset: int = 0) -> list[dict[str, Any]]:
        """The team's jobs, newest first, with what the ledger charged."""
        clauses, params = ["j.team = ?"], [team]
        for column, value in (('j."user"', user), ("j.status", status), ("j.model", model)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if search:
            # LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
            clauses.append(r"LOWER(j.prompt) LIKE LOWER(?) ESCAPE '\'")
            params.append("%" + _like_escape(search) + "%")
        if running:
            clauses.append("j.status NOT IN ('delivered', 'failed')")
        async with self.db.reading() as tx:
            return await tx.fetchall(f"""
                SELECT j.*, CASE WHEN l.state = 'spent' THEN l.amount_micros ELSE 0 END
                    AS charged_micros, l.state AS ledger_state
                FROM jobs j LEFT JOIN ledger l ON l.job_id = j.id
                WHERE {' AND '.join(clauses)}
                ORDER BY j.created_at DESC, j.id LIMIT ? OFFSET ?
            """, [*params, limit, offset])

    async def export_rows(self, team: str) -> list[dict[str, Any]]:
        """One row per job of the team, oldest first, with what the ledger charged."""
        async with self.db.reading() as tx:
            return await tx.fetchall("""
                SELECT j.id AS job_id, j.created_at, j.team, j."user" AS "user", j.user_name,
                  j.platform, j.model, j.duration, j.resolution, j.status,
                  CASE WHEN l.state = 'spent' THEN l.amount_micros ELSE 0 END AS charged_micros,
                  j.error, j.prompt
                FROM jobs j LEFT JOIN ledger l ON l.job_id = j.id
                WHERE j.team = ? ORDER BY j.created_at, j.id
            """, [team])

    async def charged_total(self, team: str) -> int:
        async with self.db.reading() as tx:
            row = await tx.fetchone(
                "SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS micros FROM ledger "
                "WHERE team = ? AND state = 'spent'", [team])
        assert row is not None
        return int(row["micros"])

    # -- metrics ---------------------------------------------------------------------------

    async def jobs_by_status(self) -> dict[str, int]:
        async with self.db.reading() as tx:
            rows = await tx.fetchall("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        return {r["status"]: int(r["n"]) for r in rows}

    async def spent_by_team(self) -> dict[str, int]:
        async with self.db.reading() as tx:
            rows = await tx.fetchall(
                "SELECT team, CAST(SUM(amount_micros) AS BIGINT) AS micros FROM ledger "
                "WHERE state = 'spent' GROUP BY team")
        return {r["team"]: int(r["micros"]) for r in rows}

    async def finished_durations(self) -> list[float]:
        """Seconds from request to delivery of every delivered job (for the histogram)."""
        if self.db.dialect == "postgresql":
            seconds = ("EXTRACT(EPOCH FROM (CAST(updated_at AS TIMESTAMPTZ) "
                       "- CAST(created_at AS TIMESTAMPTZ)))")
        else:
            seconds = "(julianday(updated_at) - julianday(created_at)) * 86400.0"
        async with self.db.reading() as tx:
            rows = await tx.fetchall(
                f"SELECT {seconds} AS seconds FROM jobs WHERE status = 'delivered'")
        return [float(r["seconds"]) for r in rows]


async def _quota_row(tx: Tx, team: str, user: str) -> dict[str, Any] | None:
    return await tx.fetchone('SELECT * FROM quotas WHERE team = ? AND "user" = ?', [team, user])


async def _audit(tx: Tx, team: str, user: str, action: str, old: dict[str, Any] | None,
                 new: dict[str, Any] | None, actor: str, front_end: str, now: str) -> None:
    await tx.execute(
        'INSERT INTO audit_log (team, "user", actor, front_end, action, old_daily_micros, '
        "old_monthly_micros, new_daily_micros, new_monthly_micros, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [team, user, actor, front_end, action,
         *((old or {}).get(c) for c in CAP_COLUMNS), *((new or {}).get(c) for c in CAP_COLUMNS),
         now])


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
