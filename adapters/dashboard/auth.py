"""Sign-in by one-time link, and sign-out. The link's token is checked by the core
(`bot.admin_links`); this turns it into a session cookie."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.dashboard.html import page
from bot.admin_links import LinkRefused

if TYPE_CHECKING:
    from adapters.dashboard.app import Dashboard

COOKIE = "sora_admin"


async def login(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    try:
        team, actor = dash.links.redeem(request.match_info["token"])
    except LinkRefused as exc:
        return page("Sign-in link refused", f"<p>{exc.user_message}</p>", status=403)
    session = dash.links.open_session(team, actor)
    # A redirect drops the token from the address bar and the browser's history entry.
    response = web.Response(status=303, headers={
        "Location": "/", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    dash.set_cookie(response, session)
    return response


async def logout(dash: Dashboard, request: web.Request) -> web.StreamResponse:
    session = dash.require(request)
    form = await request.post()
    dash.require_csrf(session, form_field(form, "csrf_token"))
    dash.links.close_session(session.id)
    response = page("Signed out", "<p>You are signed out. Sign in again with a new link.</p>")
    response.del_cookie(COOKIE, path="/")
    return response


def form_field(form: Mapping[str, Any], name: str) -> str | None:
    """A text field of a posted form (a file upload in its place counts as missing)."""
    value = form.get(name)
    return value if isinstance(value, str) else None
