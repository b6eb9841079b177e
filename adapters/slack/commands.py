"""The `/sora` slash command: video requests, the form, usage, jobs, help and budgets."""
from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.admin import admin_link_command, quota_command, settle_command
from adapters.slack.buttons import as_message
from adapters.slack.context import SlackContext
from adapters.slack.creative import show
from adapters.slack.errors import reply_for
from adapters.slack.flags import parse_command
from adapters.slack.jobs import Where, start_job
from adapters.slack.markup import MARKUP
from adapters.slack.modal import open_modal
from bot.grammar import options_help
from bot.models import Requester

HELP = """*Make a video*
`/sora PROMPT [--model M] [--duration N] [--resolution R] [--aspect A]`
{options}
{models}
Flags may stand anywhere; the rest is the prompt. `/sora` alone opens a form.
React with :{emoji}: to a message with a PNG, JPEG or WebP image to bring it to life.
`/sora usage`: what you have spent and have left.  `/sora jobs`: your recent videos.  `/sora show JOB`: post a video from the library again.
Under each result: 🖋️ Edit (change the prompt or settings and run again), ➡️ Continue (a new clip from the last frame, in the thread), 🧵 Stitch (join the thread's clips), 🗑️ delete.
Admins: `/sora quota set @member --daily 5 --monthly 50`, `/sora quota set --team --daily 20`, `/sora quota clear @member`, `/sora quota show`; `/sora admin` (a sign-in link to the dashboard); `/sora release JOB` or `/sora charge JOB` settle a job whose outcome is unknown."""


async def sora(ctx: SlackContext, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
               client: AsyncWebClient) -> None:
    await ack()
    reply: str | dict[str, Any] | None
    try:
        reply = await handle(ctx, client, command)
    except Exception as exc:
        reply = reply_for(exc, "/sora")
    if reply:
        await respond(**as_message(reply), response_type="ephemeral")


async def handle(ctx: SlackContext, client: AsyncWebClient,
                 command: dict[str, Any]) -> str | dict[str, Any] | None:
    """Do what the command asks and return the private reply (None: nothing to say)."""
    team, user = command["team_id"], command["user_id"]
    who = Requester("slack", team, user, command.get("user_name"))
    catalogue = ctx.settings.catalogue
    parsed = parse_command(command.get("text") or "", catalogue)
    if parsed.command == "modal":
        await open_modal(client, command["trigger_id"], command["channel_id"], catalogue)
        return None
    if parsed.command == "help":
        models = "\n".join(f"• {catalogue.model(m).summary()}" for m in catalogue.models())
        return HELP.format(options=options_help(catalogue), models=models,
                           emoji=ctx.settings.reaction_emoji_slack)
    if parsed.command == "usage":
        return await ctx.chat.usage_text(who)
    if parsed.command == "jobs":
        return await ctx.chat.jobs_text(who, MARKUP)
    if parsed.command == "quota":
        return await quota_command(ctx, client, team, user, parsed.args)
    if parsed.command == "show":
        return await show(ctx, client, who, command["channel_id"], parsed.args[0])
    if parsed.command in ("release", "charge"):
        return await settle_command(ctx, client, team, user, parsed.command, parsed.args[0])
    if parsed.command == "admin":
        return await admin_link_command(ctx, client, team, user)
    assert parsed.request is not None
    where = Where(command["channel_id"], response_url=command.get("response_url"))
    return await start_job(ctx, parsed.request, who, where, f"trigger:{command['trigger_id']}")
