"""Runs the Slack adapter: Socket Mode or HTTP mode, on the one HTTP server that also serves
/healthz, the dashboard and /media/{token}."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from adapters import web as bot_web
from adapters.slack.app import build_app, build_context
from adapters.slack.context import SlackContext
from adapters.slack.jobs import events_for
from adapters.slack.markup import MARKUP, slack_error
from adapters.web.guard import DEFAULT_LIMITS, ServerLimits
from bot.alerts import Alert
from bot.errors import ConfigError
from bot.runtime import Runtime

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackService:
    """Start, then stop; `port` is the HTTP port actually bound (None without a server)."""

    def __init__(self, runtime: Runtime, host: str = "0.0.0.0",
                 limits: ServerLimits = DEFAULT_LIMITS) -> None:
        self.runtime = runtime
        self.host = host
        self.limits = limits
        self.ctx: SlackContext = build_context(runtime)
        self.app: AsyncApp = build_app(self.ctx)
        # HTTP mode only: Socket Mode has no signing secret and no events path to guard.
        secret = runtime.settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret) if secret else None
        self.socket: AsyncSocketModeHandler | None = None
        self._server = contextlib.AsyncExitStack()
        self.port: int | None = None

    @property
    def socket_mode(self) -> bool:
        return bool(self.runtime.settings.slack_app_token)

    def web_app(self) -> web.Application:
        """HTTP mode: bolt's app at /slack/events; Socket Mode: only health and media."""
        s = self.runtime.settings
        if self.socket_mode:
            app = web.Application()
        else:
            app = self.app.web_app(path=EVENTS_PATH, port=s.port)
            app.middlewares.append(self._signed_only)
        # One server on PORT: the bot's own endpoints (health, the dashboard) live here too.
        bot_web.add_routes(app, self.runtime)
        self.ctx.links.add_routes(app)
        return app

    @web.middleware
    async def _signed_only(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Slack's events path takes signed requests only, checked before anything parses
        the body; a refusal, or a signed body bolt cannot read, is one log line."""
        if request.path != EVENTS_PATH:
            return await handler(request)
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.verifier is None or not _valid(self.verifier, body, headers):
            log.info("Rejected an unsigned or stale request to %s from %s", EVENTS_PATH, request.remote)
            return web.Response(status=401, text="Invalid signature.")
        try:
            return await handler(request)
        except Exception as exc:
            log.warning("A signed Slack request could not be read (%s)", type(exc).__name__)
            return web.Response(status=400, text="Unreadable request.")

    async def check_tokens(self) -> None:
        """Fail fast with a clear message when Slack refuses a token (bolt would only find
        out at the first request, Socket Mode would retry forever)."""
        s, client = self.runtime.settings, self.ctx.client
        try:
            who = await client.auth_test()
            log.info("Slack: signed in as %s in workspace %s", who.get("user"), who.get("team_id"))
        except SlackApiError as exc:
            raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({slack_error(exc)}). Check the bot token "
                              "and that the app is installed in the workspace.") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("Cannot reach the Slack Web API yet (%s); carrying on", type(exc).__name__)
            return
        if self.socket_mode:
            try:
                await client.apps_connections_open(app_token=s.slack_app_token)
            except SlackApiError as exc:
                raise ConfigError(f"Slack refused SLACK_APP_TOKEN ({slack_error(exc)}). It must be an "
                                  "app-level token (xapp-...) with the connections:write scope, "
                                  "and Socket Mode must be enabled for the app.") from None

    async def start(self) -> None:
        s = self.runtime.settings
        await self.check_tokens()
        if not self.socket_mode or s.public_base_url:
            self.port = await self._server.enter_async_context(
                bot_web.serving(self.web_app(), s.port, self.host, self.limits))
            log.info("Slack HTTP server on port %s (%s)", self.port,
                     "media and health" if self.socket_mode else f"events at {EVENTS_PATH}")
        if self.socket_mode:
            self.socket = AsyncSocketModeHandler(self.app, s.slack_app_token)
            await self.socket.connect_async()
            log.info("Slack Socket Mode connected")
        if not s.public_base_url:
            log.warning("PUBLIC_BASE_URL is not set: image-to-video by reaction is off")
        self.ctx.chat.budgets.alerts.register("slack", self.post_alert)
        await self.ctx.chat.attach("slack", lambda job: events_for(self.ctx, job))

    async def post_alert(self, channel: str, alert: Alert) -> None:
        """A budget alert, in the admin channel (SORA_ALERT_CHANNEL_SLACK)."""
        await self.ctx.client.chat_postMessage(channel=channel, text=alert.text(MARKUP))

    async def stop(self) -> None:
        self.ctx.chat.budgets.alerts.unregister("slack")
        if self.socket is not None:
            await self.socket.close_async()
        await self._server.aclose()


def _valid(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    try:
        return verifier.is_valid_request(body, headers)
    except ValueError:  # a timestamp that is not a number
        return False


async def serve(runtime: Runtime) -> None:
    """Run until cancelled."""
    service = SlackService(runtime)
    try:
        await service.start()
        await asyncio.Event().wait()
    finally:
        await asyncio.shield(service.stop())
