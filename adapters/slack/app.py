"""The bolt AsyncApp and its one listener table."""
from __future__ import annotations

import functools
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import buttons, commands, creative, modal, reactions
from adapters.slack.context import SlackContext
from adapters.slack.errors import on_error
from adapters.web.media import MediaLinks
from bot.errors import ConfigError
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def build_context(runtime: Runtime) -> SlackContext:
    s = runtime.settings
    if not s.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set.")
    kwargs: dict[str, Any] = {"base_url": s.slack_api_url} if s.slack_api_url else {}
    # One HTTP session for the process; uploads of large MP4s need more than 30 s.
    client = AsyncWebClient(token=s.slack_bot_token, session=runtime.session,
                            timeout=int(max(s.http_timeout, 120)), **kwargs)
    links = MediaLinks(s.media_dir / "slack-links", s.public_base_url, s.public_link_ttl)
    return SlackContext(runtime, client, links)


def build_app(ctx: SlackContext) -> AsyncApp:
    s = ctx.settings
    if not s.slack_app_token and not s.slack_signing_secret:
        raise ConfigError("Set SLACK_SIGNING_SECRET for HTTP mode, or SLACK_APP_TOKEN for Socket Mode.")
    app = AsyncApp(
        client=ctx.client,
        signing_secret=s.slack_signing_secret,
        request_verification_enabled=True,  # rejects unsigned and stale HTTP requests
        logger=logging.getLogger("adapters.slack.bolt"),
        name="sora-bot",
    )
    register_listeners(app, ctx)
    return app


def register_listeners(app: AsyncApp, ctx: SlackContext) -> None:
    """Every way Slack reaches the bot, in one table. Each handler takes the context first;
    bolt fills in the rest by parameter name."""
    def bound(handler: Any) -> Any:
        return functools.partial(handler, ctx)

    app.command("/sora")(bound(commands.sora))
    app.view(modal.CALLBACK_ID)(bound(modal.submitted))
    for action in buttons.RESULT_ACTIONS:  # Edit, Continue, Stitch, 🗑 under a result
        app.action(action)(bound(creative.result_pressed))
    for action in (buttons.CONFIRM, buttons.CANCEL):  # under an offer for an expensive video
        app.action(action)(bound(creative.offer_answered))
    app.event("reaction_added")(bound(reactions.reaction_added))
    app.error(on_error)
