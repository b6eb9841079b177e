"""The admin console's routes, mounted on any aiohttp Application (`add_routes`), and what
every handler shares: the runtime, sign-in sessions and the team a session may see."""
from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.dashboard import auth, media, ops, pages
from adapters.dashboard.auth import COOKIE
from adapters.dashboard.html import CSS_PATH, page, stylesheet
from bot.admin_links import LOGIN_PATH, AdminLinks, Session
from bot.runtime import Runtime

log = logging.getLogger(__name__)

SIGN_IN_HELP = ("Sign in with a one-time link: run <code>sora-bot admin-link --team TEAM</code> "
                "on the bot's machine, or use <code>/sora-admin</code> in Discord or "
                "<code>/sora admin</code> in Slack.")

Handler = Callable[["Dashboard", web.Request], Awaitable[web.StreamResponse]]


class Dashboard:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.links: AdminLinks = runtime.chat.links
        self.secure_cookies = (runtime.settings.public_base_url or "").startswith("https://")

    async def session(self, request: web.Request) -> Session | None:
        return await self.links.session(request.cookies.get(COOKIE))

    async def require(self, request: web.Request) -> Session:
        """The caller's session, or a 401 page saying how to sign in."""
        session = await self.session(request)
        if session is None:
            raise _as_http(page("Sign in", f"<p>{SIGN_IN_HELP}</p>", status=401))
        return session

    def require_csrf(self, session: Session, token: str | None) -> None:
        """A POST changes nothing without the session's CSRF token."""
        if not self.links.csrf_ok(session, token):
            log.warning("Refused a dashboard POST without a valid CSRF token (team %s)", session.team)
            raise _as_http(page("Refused", "<p>This form is out of date or was not sent from the "
                                "dashboard. Reload the page and try again.</p>", session, status=403))

    def set_cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(COOKIE, session.id, max_age=int(self.runtime.settings.admin_session_ttl),
                            path="/", httponly=True, samesite="Lax", secure=self.secure_cookies)


def add_routes(app: web.Application, runtime: Runtime, *, healthz: bool = False,
               readyz: bool = True) -> Dashboard:
    """Mount the admin console on `app` (the bot's one HTTP server, next to /slack/events):
    /, /jobs, /budgets, /export.csv, /metrics, /readyz, sign-in and media. `healthz` and
    `readyz`: whether to answer those too (off where another part of the server does)."""
    dash = Dashboard(runtime)

    def bound(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        return functools.partial(handler, dash)

    r = app.router
    r.add_get(CSS_PATH, stylesheet)
    r.add_get(LOGIN_PATH + "{token}", bound(auth.login_page))
    r.add_post(LOGIN_PATH + "{token}", bound(auth.login))
    r.add_post("/logout", bound(auth.logout))
    r.add_get("/", bound(pages.overview))
    r.add_get("/jobs", bound(pages.library))
    r.add_get("/jobs/{job_id}/video.mp4", bound(media.video))
    r.add_get("/jobs/{job_id}/thumb.jpg", bound(media.thumbnail))
    r.add_get("/budgets", bound(pages.budgets))
    r.add_post("/budgets", bound(pages.change_budget))
    r.add_get("/export.csv", bound(ops.export_csv))
    r.add_get("/metrics", bound(ops.metrics))
    if readyz:
        r.add_get("/readyz", bound(ops.readyz))
    if healthz:
        r.add_get("/healthz", ops.healthz)
    return dash


def build_app(runtime: Runtime) -> web.Application:
    """The admin console alone (`sora-bot dashboard`), with /healthz."""
    app = web.Application(client_max_size=64 * 1024)
    add_routes(app, runtime, healthz=True)
    return app


_ERRORS: dict[int, type[web.HTTPException]] = {
    401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound}


def _as_http(response: web.Response) -> web.HTTPException:
    """A rendered page, to raise as an HTTP error from deep in a handler."""
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type",
                                                                               "content-length")}
    return _ERRORS[response.status](text=response.text, content_type="text/html", headers=headers)


__all__ = ["COOKIE", "Dashboard", "add_routes", "build_app"]
