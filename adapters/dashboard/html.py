"""The page frame: one layout, one stylesheet served by the bot, and the security headers
every page carries. No script runs on any page, so the policy forbids scripts outright."""
from __future__ import annotations

import datetime as dt
from html import escape as esc

from aiohttp import web

from bot.admin_links import Session

CSS_PATH = "/dashboard.css"

#: Charts are inline SVG, media comes from this origin, and nothing is framed or scripted.
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "media-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

NAV = (("/", "Overview"), ("/jobs", "Videos"), ("/budgets", "Budgets"))


def page(title: str, body: str, session: Session | None = None, *, active: str = "",
         status: int = 200) -> web.Response:
    nav = ""
    if session is not None:
        links = "".join(f'<a href="{href}"{" class=active" if href == active else ""}>{esc(name)}</a>'
                        for href, name in NAV)
        nav = (f'<nav>{links}<a href="/export.csv">CSV</a>'
               f'<span class="team">Team {esc(session.team)}</span>'
               f'<form method="post" action="/logout" class="inline">{csrf_field(session)}'
               f'<button type="submit">Sign out</button></form></nav>')
    text = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)} · sora-bot</title><link rel="stylesheet" href="{CSS_PATH}">'
            f'</head><body><header><h1>sora-bot admin</h1>{nav}</header>'
            f'<main><h2>{esc(title)}</h2>{body}</main></body></html>')
    return web.Response(text=text, content_type="text/html", status=status, headers=HEADERS)


def csrf_field(session: Session) -> str:
    return f'<input type="hidden" name="csrf_token" value="{esc(session.csrf)}">'


def when(iso_text: str | None) -> str:
    """A stored ISO time as `2026-11-25 09:14 UTC`."""
    if not iso_text:
        return ""
    moment = dt.datetime.fromisoformat(iso_text).astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css",
                        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})


CSS = """
:root { --ink: #1d2330; --muted: #687087; --line: #e3e6ee; --bg: #f6f7fb; --accent: #4f6bed; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 12px 28px; background: #fff;
  border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
nav { display: flex; align-items: center; gap: 16px; flex: 1; flex-wrap: wrap; }
nav a { color: var(--muted); text-decoration: none; padding: 4px 0; }
nav a.active, nav a:hover { color: var(--accent); border-bottom: 2px solid var(--accent); }
nav .team { margin-left: auto; color: var(--muted); }
main { padding: 20px 28px 48px; max-width: 1240px; }
h2 { margin: 4px 0 16px; font-size: 22px; }
h3 { margin: 0 0 10px; font-size: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px;
  margin-bottom: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  margin-bottom: 16px; }
.cards .card { margin-bottom: 0; }
.card.wide { grid-column: 1 / -1; }
.big { font-size: 26px; font-weight: 600; }
.muted { color: var(--muted); }
.chart { width: 100%; height: auto; display: block; }
.chart text { font: 12px system-ui, sans-serif; }
.chart .axis { fill: var(--muted); }
.chart .label { fill: var(--ink); }
.chart .value { fill: var(--muted); }
.chart .grid { stroke: var(--line); }
.meter { vertical-align: middle; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
form.filters { display: flex; gap: 10px; flex-wrap: wrap; margin-bottom: 16px; align-items: end; }
label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); gap: 4px; }
input, select, button { font: inherit; padding: 6px 9px; border: 1px solid #c9cedb;
  border-radius: 6px; background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
form.inline { display: inline; }
form.inline button { background: #fff; color: var(--muted); border-color: var(--line); }
.library { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.video { background: #fff; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.video video, .video img.thumb, .video .nothumb { width: 100%; aspect-ratio: 16 / 9;
  background: #111; display: block; object-fit: contain; }
.video .nothumb { display: flex; align-items: center; justify-content: center; color: #aaa; }
.video .meta { padding: 10px 14px 14px; }
.video .prompt { margin: 0 0 8px; }
.tag { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  background: #eef0f7; color: var(--muted); margin-right: 4px; }
.tag.delivered { background: #e3f4ee; color: #1f7a5c; }
.tag.failed { background: #fbe6e6; color: #a23030; }
.error { color: #a23030; }
.notice { padding: 10px 14px; border-radius: 8px; background: #e3f4ee; margin-bottom: 16px; }
.notice.bad { background: #fbe6e6; }
details summary { cursor: pointer; color: var(--accent); }
"""
