"""Sign-in by one-time link, and sign-out. The link's token is checked by the core
(`bot.admin_links`); this turns it into a session cookie."""
from __future__ import annotations

from collections.abc import Mapping
from html import escape as esc
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.dashboard.html import page
from bot.admin_links import LinkRefused

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard

COOKIE = "sora_admin"


async def login_page(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    """What a sign-in link opens: a button. Chat apps fetch links to preview them; only the
    POST below uses the link up, so a preview cannot spend it."""
    token = request.match_info["token"]
    try:
        team, _ = await dash.links.check(token)
    except LinkRefused as exc:
        return page("Sign-in link refused", f"<p>{exc.user_message}</p>", status=403)
    return page("Sign in", f'<form method="post" action="/login/{esc(token)}">'
                f'<p>Open the dashboard of team <b>{esc(team)}</b>. This link then stops working.</p>'
                f'<button type="submit">Sign in</button></form>')


async def login(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    try:
        team, actor = await dash.links.redeem(request.match_info["token"])
    except LinkRefused as exc:
        return page("Sign-in link refused", f"<p>{exc.user_message}</p>", status=403)
    session = await dash.links.open_session(team, actor)
    # See Other: the browser GETs the overview, and a reload does not post the link again.
    response = web.Response(status=303, headers={
        "Location": "/", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    dash.set_cookie(response, session)
    return response


async def logout(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = await dash.require(request)
    form = await request.post()
    dash.require_csrf(session, form_field(form, "csrf_token"))
    await dash.links.close_session(session.id)
    response = page("Signed out", "<p>You are signed out. Sign in again with a new link.</p>")
    response.del_cookie(COOKIE, path="/")
    return response


def form_field(form: Mapping[str, Any], name: str) -> str | None:
    """A text field of a posted form (a file upload in its place counts as missing)."""
    value = form.get(name)
    return value if isinstance(value, str) else None
