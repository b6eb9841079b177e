"""The creative loop on Slack: the buttons under a result (edit, continue, stitch, delete),
Confirm / Cancel under an offer, and `/sora show JOB`. The behaviour is the core's
(`bot.library`, `ChatJobs`); this is the Slack wording and wiring."""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.admin import is_admin
from adapters.slack.buttons import CONFIRM, DELETE, FORM_MODES, STITCH, as_message
from adapters.slack.context import SlackContext
from adapters.slack.errors import reply_for
from adapters.slack.jobs import NO_PUBLIC_URL_CONTINUE, launch
from adapters.slack.markup import MARKUP, slack_error
from adapters.slack.modal import build_view
from adapters.slack.status import FILES
from bot import library, texts
from bot.models import Requester
from bot.status import REF

log = logging.getLogger(__name__)

NOT_YOURS = "Only the member who asked for this video, or a workspace admin, can delete it."


def _who(body: dict[str, Any]) -> Requester:
    user = body["user"]
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return Requester("slack", team, user["id"], user.get("username") or user.get("name"))


async def _tell(ctx: SlackContext, body: dict[str, Any], reply: str | dict[str, Any],
                replace: bool = False) -> None:
    """Answer the presser privately through the action's response_url."""
    url = body.get("response_url")
    if not url:
        return
    hook = AsyncWebhookClient(url, session=ctx.runtime.session)
    await hook.send(**as_message(reply), response_type="ephemeral", replace_original=replace)


async def result_pressed(ctx: SlackContext, ack: AsyncAck, body: dict[str, Any],
                         client: AsyncWebClient) -> None:
    """Edit / Continue open the form filled in; Stitch joins the sequence; 🗑 deletes."""
    await ack()
    action = body["actions"][0]
    who = _who(body)
    try:
        job = await library.find(ctx.chat.engine.store, action["value"], who.team)
        if action["action_id"] in FORM_MODES:
            mode = FORM_MODES[action["action_id"]]
            if mode == "continue" and not ctx.links.enabled:
                await _tell(ctx, body, NO_PUBLIC_URL_CONTINUE)
                return
            channel = (body.get("channel") or {}).get("id") or job.origin.get("channel") or who.user
            await client.views_open(trigger_id=body["trigger_id"],
                                    view=build_view(channel, ctx.settings.catalogue, job, mode))
        elif action["action_id"] == STITCH:
            await _tell(ctx, body, await stitch(ctx, client, job.id, who))
        elif action["action_id"] == DELETE:
            await _tell(ctx, body, await delete(ctx, client, job.id, who, body))
    except Exception as exc:
        await _tell(ctx, body, reply_for(exc, f"The {action['action_id']} button"))


async def stitch(ctx: SlackContext, client: AsyncWebClient, job_id: str, who: Requester) -> str:
    clips, path = await library.stitch_sequence(ctx.chat.engine.store, ctx.settings, job_id, who.team)
    first = clips[0]
    channel = first.origin.get("channel")
    thread = first.origin.get("thread_ts") or first.origin.get(REF)
    try:
        await client.files_upload_v2(
            channel=channel, thread_ts=thread, file=str(path), filename=path.name,
            title=texts.short(f"Stitched: {first.request.prompt}", 80),
            initial_comment=f"🧵 {len(clips)} clips stitched: "
                            + " → ".join(MARKUP.code(c.id) for c in clips))
    finally:
        path.unlink(missing_ok=True)  # made again from the clips whenever asked
    return f"Stitched {len(clips)} clips into the thread; nothing was charged."


async def delete(ctx: SlackContext, client: AsyncWebClient, job_id: str, who: Requester,
                 body: dict[str, Any]) -> str:
    """The requester, or a workspace admin, removes the result: its message and its file."""
    job = await library.find(ctx.chat.engine.store, job_id, who.team)
    if who.user != job.requester.user and not await is_admin(ctx, client, who.user):
        return NOT_YOURS
    channel = (body.get("channel") or {}).get("id") or job.origin.get("channel")
    ts = (body.get("message") or {}).get("ts") or job.origin.get(REF)
    try:
        await client.chat_delete(channel=channel, ts=ts)
        for file_id in job.origin.get(FILES) or []:
            await client.files_delete(file=file_id)
    except SlackApiError as exc:
        log.warning("Deleting the result of %s failed: %s", job.id, slack_error(exc))
        return "Slack would not let me delete that message."
    return f"Deleted the result of {job.id}. `/sora show {job.id}` posts it again."


async def offer_answered(ctx: SlackContext, ack: AsyncAck, body: dict[str, Any]) -> None:
    """Confirm starts the offered job (reserving it now); Cancel drops it."""
    await ack()
    action = body["actions"][0]
    try:
        offer = ctx.chat.take_offer(action["value"], _who(body))
        if action["action_id"] != CONFIRM:
            await _tell(ctx, body, "Cancelled: nothing was reserved or sent.", replace=True)
            return
        c = offer.context
        reply: str = await launch(ctx, offer.request, offer.requester, c["where"],
                                  c["request_key"], c["lineage"])
    except Exception as exc:
        reply = reply_for(exc, "Confirming a video")
    await _tell(ctx, body, reply, replace=True)


async def show(ctx: SlackContext, client: AsyncWebClient, who: Requester, channel: str,
               job_id: str) -> str:
    """`/sora show JOB`: post a stored video again in this channel."""
    job, path = await library.stored_video(ctx.chat.engine.store, job_id, who.team)
    await client.files_upload_v2(
        channel=channel, file=str(path), filename=f"sora-{job.id}.mp4",
        title=texts.short(job.request.prompt, 80),
        initial_comment="📚 From the library: " + texts.result_caption(job, MARKUP))
    return f"Posted {job.id} again."

