"""Runs the Slack adapter: Socket Mode or HTTP mode, on the one HTTP server that also serves
/healthz, the dashboard and /media/{token}."""
from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters import web as bot_web
from adapters.slack.app import build_app, build_context
from adapters.slack.context import SlackContext
from adapters.slack.jobs import events_for
from adapters.slack.markup import MARKUP, slack_error
from bot.alerts import Alert
from bot.errors import ConfigError
from bot.runtime import Runtime

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackService:
    """Start, then stop; `port` is the HTTP port actually bound (None without a server)."""

    def __init__(self, runtime: Runtime, host: str = "0.0.0.0") -> None:
        self.runtime = runtime
        self.host = host
        self.ctx: SlackContext = build_context(runtime)
        self.app: AsyncApp = build_app(self.ctx)
        self.socket: AsyncSocketModeHandler | None = None
        self.runner: web.AppRunner | None = None
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
        # One server on PORT: the bot's own endpoints (health, the dashboard) live here too.
        bot_web.add_routes(app, self.runtime)
        self.ctx.links.add_routes(app)
        return app

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
            self.runner = web.AppRunner(self.web_app(), access_log=None)
            await self.runner.setup()
            site = web.TCPSite(self.runner, self.host, s.port)
            await site.start()
            self.port = self.runner.addresses[0][1]
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
        if self.runner is not None:
            await self.runner.cleanup()


async def serve(runtime: Runtime) -> None:
    """Run until cancelled."""
    service = SlackService(runtime)
    try:
        await service.start()
        await asyncio.Event().wait()
    finally:
        await asyncio.shield(service.stop())
