"""The three pages: the overview, the video library, and budgets with their audit log.
Everything a member or an admin typed (names, prompts, errors, ids) is escaped."""
from __future__ import annotations

import datetime as dt
import logging
from html import escape as esc
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from adapters.dashboard import charts
from adapters.dashboard.auth import form_field
from adapters.dashboard.html import csrf_field, page, when
from bot.budgets import KEEP, parse_dollars, windows
from bot.errors import InvalidRequest
from bot.models import usd

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard
    from bot.admin_links import Session

log = logging.getLogger(__name__)

PAGE_SIZE = 24
DAYS = 30


# -- overview ------------------------------------------------------------------------------

async def overview(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = await dash.require(request)
    team, store = session.team, dash.runtime.store
    now = dt.datetime.now(dt.UTC)
    usage = (await dash.runtime.budgets.status(team, "", now)).usage
    month_start = windows(now).month_start
    first_day = (now - dt.timedelta(days=DAYS - 1)).date()
    per_day = await store.daily_spend(team, first_day.isoformat())
    days = [(d.isoformat(), per_day.get(d.isoformat(), 0))
            for d in (first_day + dt.timedelta(days=i) for i in range(DAYS))]
    by_user = await store.spend_by_user(team, month_start)
    by_model = await store.spend_by_model(team, month_start)
    names = await store.members(team)
    running = await store.find_jobs(team, running=True, limit=20)

    members = "".join(
        f'<tr><td>{esc(names.get(r["user"], r["user"]))}</td><td class="muted">{esc(r["user"])}</td>'
        f'<td class="num">{r["jobs"]}</td><td class="num">{esc(usd(r["micros"]))}</td></tr>'
        for r in by_user) or '<tr><td colspan="4" class="muted">No spending this month.</td></tr>'
    live = "".join(
        f'<tr><td>{esc(j["id"])}</td><td>{esc(names.get(j["user"], j["user"]))}</td>'
        f'<td><span class="tag">{esc(j["status"])}</span></td><td>{esc(_short(j["prompt"], 80))}</td>'
        f'<td>{esc(when(j["created_at"]))}</td></tr>'
        for j in running) or '<tr><td colspan="5" class="muted">Nothing running.</td></tr>'
    body = f"""
<div class="cards">
  <section class="card"><h3>Spent today</h3><div class="big">{esc(usd(usage.team_day))}</div>
    <p>{charts.meter(usage.team_day, usage.limits.team_daily)}</p>
    <p class="muted">Team daily cap; resets at 00:00 UTC.</p></section>
  <section class="card"><h3>Spent this month</h3><div class="big">{esc(usd(usage.team_month))}</div>
    <p>{charts.meter(usage.team_month, usage.limits.team_monthly)}</p>
    <p class="muted">Team monthly cap; resets on the 1st.</p></section>
</div>
<section class="card"><h3>Spend per day, last {DAYS} days</h3>
  {charts.columns(days, width=1100, title=f"Spend per day, last {DAYS} days")}</section>
<div class="cards">
  <section class="card"><h3>Per member, this month</h3>
    {charts.bars([(names.get(r["user"], r["user"]), r["micros"]) for r in by_user],
                 title="Spend per member this month")}</section>
  <section class="card"><h3>Per model, this month</h3>
    {charts.bars([(r["model"] or "?", r["micros"]) for r in by_model],
                 title="Spend per model this month")}</section>
</div>
<section class="card"><h3>Members this month</h3><table id="members">
  <tr><th>Member</th><th>Id</th><th class="num">Jobs</th><th class="num">Spent</th></tr>{members}
</table></section>
<section class="card"><h3>Running now</h3><table id="running">
  <tr><th>Job</th><th>Member</th><th>Status</th><th>Prompt</th><th>Started</th></tr>{live}
</table></section>"""
    return page("Overview", body, session, active="/")


# -- the library ---------------------------------------------------------------------------

async def library(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = await dash.require(request)
    team, store, q = session.team, dash.runtime.store, request.query
    filters = {name: (q.get(name) or "").strip()[:200] for name in ("user", "status", "model", "q")}
    page_no = max(_int(q.get("page"), 1), 1)
    rows = await store.find_jobs(team, user=filters["user"] or None,
                                 status=filters["status"] or None,
                                 model=filters["model"] or None, search=filters["q"] or None,
                                 limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    names = await store.members(team)
    facets = await store.job_facets(team)

    def select(name: str, label: str, options: list[tuple[str, str]]) -> str:
        opts = "".join(f'<option value="{esc(v)}"{" selected" if v == filters[name] else ""}>'
                       f'{esc(text)}</option>' for v, text in [("", "any"), *options])
        return f'<label>{esc(label)}<select name="{name}">{opts}</select></label>'

    form = (f'<form class="filters" method="get" action="/jobs">'
            f'{select("user", "Member", [(u, n) for u, n in names.items()])}'
            f'{select("status", "Status", [(s, s) for s in facets["status"]])}'
            f'{select("model", "Model", [(m, m) for m in facets["model"] if m])}'
            f'<label>Prompt contains<input type="search" name="q" value="{esc(filters["q"])}"></label>'
            f'<button type="submit">Filter</button></form>')
    cards = "".join(_video_card(j, names) for j in rows) or '<p class="muted">No videos match.</p>'
    pager = []
    keep = {k: v for k, v in filters.items() if v}
    if page_no > 1:
        pager.append(f'<a href="/jobs?{esc(urlencode({**keep, "page": page_no - 1}))}">Newer</a>')
    if more:
        pager.append(f'<a href="/jobs?{esc(urlencode({**keep, "page": page_no + 1}))}">Older</a>')
    body = f'{form}<div class="library" id="library">{cards}</div><p>{" · ".join(pager)}</p>'
    return page("Videos", body, session, active="/jobs")


def _video_card(job: dict[str, Any], names: dict[str, str]) -> str:
    jid = esc(job["id"])
    if job["status"] == "delivered" and job["video_path"]:
        media = (f'<video controls preload="none" poster="/jobs/{jid}/thumb.jpg" '
                 f'src="/jobs/{jid}/video.mp4"></video>')
    else:
        media = f'<div class="nothumb">{esc(job["status"])}</div>'
    error = f'<p class="error">{esc(job["error"])}</p>' if job["error"] else ""
    return (f'<article class="video" data-job="{jid}">{media}<div class="meta">'
            f'<p class="prompt">{esc(job["prompt"])}</p>'
            f'<span class="tag {esc(job["status"])}">{esc(job["status"])}</span>'
            f'<span class="tag">{esc(job["model"] or "")}</span>'
            f'<span class="tag">{job["duration"] or 0}s {esc(job["resolution"] or "")}</span>'
            f'<p class="muted">{esc(names.get(job["user"], job["user"]))} · '
            f'{esc(when(job["created_at"]))} · charged {esc(usd(job["charged_micros"]))}'
            f' (quoted {esc(usd(job["cost_micros"] or 0))})</p>{error}</div></article>')


# -- budgets -------------------------------------------------------------------------------

async def budgets(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = await dash.require(request)
    return await _budgets_page(dash, session, notice=_saved_notice(request.query.get("saved")))


async def _budgets_page(dash: Dashboard, session: Session, *, notice: str = "", error: str = "",
                  status: int = 200) -> web.Response:
    team, budgets = session.team, dash.runtime.budgets
    names = await dash.runtime.store.members(team)
    d = budgets.defaults
    rows = await budgets.quotas(team)

    def cap(value: int | None, default: int | None) -> str:
        if value is not None:
            return esc(usd(value))
        return f'<span class="muted">default ({esc(usd(default)) if default is not None else "none"})</span>'

    table = "".join(
        f'<tr><td>{esc(names.get(r["user"], r["user"])) if r["user"] else "<b>Whole team</b>"}</td>'
        f'<td class="muted">{esc(r["user"])}</td>'
        f'<td class="num">{cap(r["daily_micros"], d.user_daily if r["user"] else d.team_daily)}</td>'
        f'<td class="num">{cap(r["monthly_micros"], d.user_monthly if r["user"] else d.team_monthly)}</td></tr>'
        for r in rows) or '<tr><td colspan="4" class="muted">No overrides: the defaults apply.</td></tr>'
    defaults = (f"Defaults from the settings: each member {_cap_text(d.user_daily)} daily and "
                f"{_cap_text(d.user_monthly)} monthly; the team {_cap_text(d.team_daily)} daily and "
                f"{_cap_text(d.team_monthly)} monthly.")
    options = "".join(f'<option value="{esc(u)}">{esc(n)}</option>' for u, n in names.items())
    audit = "".join(
        f'<tr><td>{esc(when(a["created_at"]))}</td><td>{esc(a["actor"])}</td>'
        f'<td>{esc(a["front_end"])}</td>'
        f'<td>{esc(names.get(a["user"], a["user"])) if a["user"] else "whole team"}</td>'
        f'<td>{esc(a["action"])}</td>'
        f'<td>{_audit_change(a)}</td></tr>'
        for a in await budgets.audit_log(team)) or '<tr><td colspan="6" class="muted">No changes yet.</td></tr>'
    banner = (f'<p class="notice">{esc(notice)}</p>' if notice else "") + (
        f'<p class="notice bad">{esc(error)}</p>' if error else "")
    body = f"""{banner}
<section class="card"><h3>Caps</h3><p class="muted">{esc(defaults)}</p><table id="caps">
  <tr><th>Who</th><th>Id</th><th class="num">Daily</th><th class="num">Monthly</th></tr>{table}
</table></section>
<section class="card"><h3>Change a budget</h3>
<form method="post" action="/budgets" class="filters">{csrf_field(session)}
  <label>Member id (empty: the whole team)<input name="user" list="members" maxlength="64"></label>
  <datalist id="members">{options}</datalist>
  <label>Daily dollars<input name="daily" placeholder="keep" size="8"></label>
  <label>Monthly dollars<input name="monthly" placeholder="keep" size="8"></label>
  <button type="submit">Save</button>
</form><p class="muted">Leave an amount empty to keep it; <code>none</code> removes the override,
so the default applies again.</p>
</section>
<section class="card"><h3>Audit log</h3><table id="audit">
  <tr><th>When</th><th>Who</th><th>From</th><th>Budget of</th><th>Change</th><th>Old → new</th></tr>
  {audit}</table></section>"""
    return page("Budgets", body, session, active="/budgets", status=status)


async def change_budget(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = await dash.require(request)
    form = await request.post()
    dash.require_csrf(session, form_field(form, "csrf_token"))
    user = (form_field(form, "user") or "").strip()
    try:
        if len(user) > 64 or not user.isprintable():
            raise InvalidRequest("A member id is at most 64 printable characters.")
        daily, monthly = (_amount(form_field(form, name), name) for name in ("daily", "monthly"))
        await dash.runtime.budgets.set(session.team, user or None, daily=daily, monthly=monthly,
                                 by=session.actor or "dashboard", via="web")
    except InvalidRequest as exc:
        return await _budgets_page(dash, session, error=exc.user_message, status=400)
    log.info("Budget of %s/%s changed from the dashboard", session.team, user or "(team)")
    raise web.HTTPSeeOther("/budgets?" + urlencode({"saved": user or "team"}))


def _amount(raw: str | None, name: str) -> float | None | object:
    text = (raw or "").strip()
    return KEEP if not text else parse_dollars(text, f"The {name} amount")


def _saved_notice(saved: str | None) -> str:
    if not saved:
        return ""
    return "Saved the team's budget." if saved == "team" else f"Saved the budget of {saved[:64]}."


def _cap_text(micros: int | None) -> str:
    return "no cap" if micros is None else usd(micros)


def _audit_cap(micros: int | None) -> str:
    return "default" if micros is None else esc(usd(micros))


def _audit_change(row: dict[str, Any]) -> str:
    """Only the caps that changed: `daily $2.00 → $3.00`."""
    parts = [f'{cap} {_audit_cap(row[f"old_{cap}_micros"])} → {_audit_cap(row[f"new_{cap}_micros"])}'
             for cap in ("daily", "monthly") if row[f"old_{cap}_micros"] != row[f"new_{cap}_micros"]]
    return "; ".join(parts) or "no change"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw or default)
    except ValueError:
        return default
