"""Schema migrations, applied in order and recorded in PRAGMA user_version."""
from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database


def m001_initial(db: Database) -> None:
    db.table("jobs").create({
        "id": str, "platform": str, "team": str, "user": str, "user_name": str,
        "prompt": str, "model": str, "duration": int, "resolution": str, "aspect": str,
        "image_url": str, "cost_micros": int, "status": str, "task_id": str,
        "progress": int, "error": str, "video_path": str, "origin": str, "deadline": float,
        "created_at": str, "updated_at": str,
    }, pk="id", not_null={"platform", "team", "user", "prompt", "status", "created_at"})
    db.table("jobs").create_index(["status"])
    db.table("jobs").create_index(["team", "user", "created_at"])
    db.table("ledger").create({
        "id": int, "job_id": str, "team": str, "user": str, "amount_micros": int,
        "state": str, "created_at": str, "settled_at": str,
    }, pk="id", not_null={"job_id", "team", "user", "amount_micros", "state", "created_at"})
    db.table("ledger").create_index(["job_id"], unique=True)
    db.table("ledger").create_index(["team", "created_at"])
    db.table("quotas").create({
        "team": str, "user": str, "daily_micros": int, "monthly_micros": int, "updated_at": str,
    }, pk=("team", "user"))


def m002_job_source(db: Database) -> None:
    """One live job per member and source (a message reacted to): a key, not a scan. A failed
    job leaves the index, so the member may try that message again."""
    db.table("jobs").add_column("source", str)
    db.execute("CREATE UNIQUE INDEX jobs_one_per_source ON jobs (team, user, source) "
               "WHERE source IS NOT NULL AND status != 'failed'")


def m003_requested_model(db: Database) -> None:
    """`model` is the model that makes the video; a job moved to a fallback (its model gone
    upstream) keeps the one the member asked for in `requested_model`."""
    db.table("jobs").add_column("requested_model", str)
    db.execute("UPDATE jobs SET requested_model = model")


def m004_job_owner(db: Database) -> None:
    """One owner per job: the process working on it and until when its lease holds. A
    request key (a Slack trigger_id or event_id) starts at most one job, ever."""
    jobs = db.table("jobs")
    jobs.add_column("owner", str)
    jobs.add_column("lease_until", float)
    jobs.add_column("request_key", str)
    db.execute("CREATE UNIQUE INDEX jobs_one_per_request ON jobs (request_key) "
               "WHERE request_key IS NOT NULL")


def m005_admin_console(db: Database) -> None:
    """The admin console: the audit log of budget changes, sign-in links used once, web
    sessions (only a hash of each session id is kept, so a dump opens nothing), and budget
    alerts already sent (a key per team/user/cap/period/threshold: once, across processes)."""
    db["audit_log"].create({
        "id": int, "team": str, "user": str, "actor": str, "front_end": str, "action": str,
        "old_daily_micros": int, "old_monthly_micros": int,
        "new_daily_micros": int, "new_monthly_micros": int, "created_at": str,
    }, pk="id", not_null={"team", "user", "actor", "front_end", "action", "created_at"})
    db["audit_log"].create_index(["team", "created_at"])
    db["admin_links_used"].create({"link_id": str, "team": str, "used_at": str}, pk="link_id")
    db["admin_sessions"].create({
        "id_hash": str, "team": str, "actor": str, "created_at": str, "expires_at": float,
    }, pk="id_hash", not_null={"team", "expires_at"})
    db["alerts_sent"].create({"key": str, "team": str, "user": str, "sent_at": str}, pk="key")


def m006_lineage(db: Database) -> None:
    """The creative loop: a job made from another (edited, continued, remixed, extended)
    names its `parent`; continued clips share the first clip's id as their `sequence`.
    `pruned_at`: when the video file was deleted to save space (the ledger row stays)."""
    jobs = db.table("jobs")
    jobs.add_column("parent", str)
    jobs.add_column("sequence", str)
    jobs.add_column("pruned_at", str)
    # Remix / extend: the provider's task id of the video the job remixes or extends.
    jobs.add_column("remix_of", str)
    jobs.add_column("extend_of", str)
    db.execute("CREATE INDEX jobs_by_sequence ON jobs (sequence, created_at) WHERE sequence IS NOT NULL")


#: In order; PRAGMA user_version counts how many have run. Append, never edit or reorder.
MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial, m002_job_source, m003_requested_model, m004_job_owner, m005_admin_console,
    m006_lineage,
]


def migrate(db: Database) -> None:
    """Bring the schema up to date; safe to run from several processes at once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
