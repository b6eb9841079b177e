"""Machine-facing routes: /healthz, /readyz, /metrics (Prometheus text) and /export.csv."""
from __future__ import annotations

import asyncio
import csv
import hmac
import io
import logging
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from storage.store import UNFINISHED

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard

log = logging.getLogger(__name__)

ENDED = ("delivered", "failed")
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
DURATION_BUCKETS = (30, 60, 120, 180, 300, 600, 1200, 1800)
EXPORT_COLUMNS = ("job_id", "created_at", "team", "user", "user_name", "platform", "model",
                  "duration", "resolution", "status", "charged_usd", "error", "prompt")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(dash: Dashboard, request: web.Request) -> web.Response:
    """Ready when the database answers and the video service can be reached (any HTTP answer
    counts: reachability, not the key, is the question, so no key is sent)."""
    try:
        database = await dash.runtime.store.ping()
    except Exception:
        log.exception("Readiness: the database did not answer")
        database = False
    provider = await _reachable(dash.runtime.session, dash.runtime.settings.base_url)
    ok = database and provider
    return web.json_response({"ok": ok, "database": database, "provider": provider},
                             status=200 if ok else 503)


async def _reachable(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=3), allow_redirects=False):
            return True
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("Readiness: the video service is unreachable (%s)", type(exc).__name__)
        return False


async def metrics(dash: Dashboard, request: web.Request) -> web.Response:
    token = dash.runtime.settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.Response(status=401, text="A bearer token is required.\n",
                                headers={"WWW-Authenticate": "Bearer"})
    elif request.remote not in LOOPBACK:
        return web.Response(status=403, text="Metrics answer only on this machine; set "
                                             "METRICS_TOKEN to read them from elsewhere.\n")
    return web.Response(text=await render_metrics(dash), content_type="text/plain",
                        charset="utf-8", headers={"Cache-Control": "no-store"})


async def render_metrics(dash: Dashboard) -> str:
    store, slots = dash.runtime.store, dash.runtime.engine.slots
    by_status = await store.jobs_by_status()
    # Only ended jobs: a counter never goes down, and a job leaves "submitted" when it ends.
    lines = ["# HELP sora_jobs_total Jobs that ended, by outcome.",
             "# TYPE sora_jobs_total counter"]
    lines += [f'sora_jobs_total{{status="{s}"}} {by_status.get(s, 0)}' for s in ENDED]
    lines += ["# HELP sora_spent_usd_total Dollars charged (settled as spent), by team.",
              "# TYPE sora_spent_usd_total counter"]
    lines += [f'sora_spent_usd_total{{team="{_label(t)}"}} {m / 1_000_000:.6f}'
              for t, m in sorted((await store.spent_by_team()).items())]
    durations = await store.finished_durations()
    lines += ["# HELP sora_job_duration_seconds From request to delivery, for delivered jobs.",
              "# TYPE sora_job_duration_seconds histogram"]
    lines += [f'sora_job_duration_seconds_bucket{{le="{b}"}} {sum(d <= b for d in durations)}'
              for b in DURATION_BUCKETS]
    lines += [f'sora_job_duration_seconds_bucket{{le="+Inf"}} {len(durations)}',
              f"sora_job_duration_seconds_sum {sum(durations):.3f}",
              f"sora_job_duration_seconds_count {len(durations)}"]
    lines += ["# HELP sora_jobs_unfinished Jobs not yet delivered or failed, by status.",
              "# TYPE sora_jobs_unfinished gauge"]
    lines += [f'sora_jobs_unfinished{{status="{s}"}} {by_status.get(s, 0)}' for s in UNFINISHED]
    lines += ["# HELP sora_queue_waiting Jobs in this process waiting for a free slot.",
              "# TYPE sora_queue_waiting gauge", f"sora_queue_waiting {slots.waiting}",
              "# HELP sora_slots_busy Jobs in this process holding a slot.",
              "# TYPE sora_slots_busy gauge", f"sora_slots_busy {slots.busy}",
              "# HELP sora_slots_total Jobs this process runs at once.",
              "# TYPE sora_slots_total gauge", f"sora_slots_total {slots.total}"]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


async def export_csv(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    """One row per job of the session's team; `charged_usd` is what the ledger charged (0
    for a failed or unfinished job), exact to the micro-dollar."""
    session = await dash.require(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in await dash.runtime.store.export_rows(session.team):
        micros = int(row["charged_micros"] or 0)
        values = {**row, "charged_usd": f"{micros // 1_000_000}.{micros % 1_000_000:06d}"}
        writer.writerow([_cell(values.get(c)) for c in EXPORT_COLUMNS])
    return web.Response(text=buffer.getvalue(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="sora-{_filename(session.team)}-jobs.csv"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _cell(value: object) -> str:
    """Text a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _filename(team: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in team)[:40] or "team"
