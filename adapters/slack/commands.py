"""The `/sora` slash command: video requests, the modal, usage, jobs, help and quotas."""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import texts
from adapters.slack.admin import quota_command
from adapters.slack.context import SlackContext
from adapters.slack.flags import parse_command
from adapters.slack.jobs import Where, start_job
from adapters.slack.modal import open_modal
from bot.errors import SoraError
from bot.models import Requester

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong on the bot's side. Please try again; an admin can check the logs."


def register(app: AsyncApp, ctx: SlackContext) -> None:
    @app.command("/sora")
    async def sora(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                   client: AsyncWebClient) -> None:
        await ack()
        try:
            reply = await handle(ctx, client, command)
        except SoraError as exc:
            reply = exc.user_message
        except Exception:
            log.exception("/sora failed")
            reply = GENERIC_ERROR
        if reply:
            await respond(text=reply, response_type="ephemeral")


async def handle(ctx: SlackContext, client: AsyncWebClient, command: dict[str, Any]) -> str | None:
    """Do what the command asks and return the ephemeral reply (None: nothing to say)."""
    team, user = command["team_id"], command["user_id"]
    parsed = parse_command(command.get("text") or "")
    if parsed.command == "modal":
        await open_modal(client, command["trigger_id"], command["channel_id"])
        return None
    if parsed.command == "help":
        return texts.HELP.format(emoji=ctx.settings.reaction_emoji_slack)
    if parsed.command == "usage":
        return "\n".join(ctx.runtime.budgets.status(team, user).lines())
    if parsed.command == "jobs":
        jobs = ctx.runtime.engine.jobs(team=team, user=user, limit=10)
        return "\n".join(texts.job_line(j) for j in jobs) if jobs else "You have no videos yet."
    if parsed.command == "quota":
        return await quota_command(ctx, client, team, user, parsed.args)
    assert parsed.request is not None
    requester = Requester("slack", team, user, command.get("user_name"))
    where = Where(command["channel_id"], response_url=command.get("response_url"))
    return await start_job(ctx, parsed.request, requester, where)
