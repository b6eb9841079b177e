"""Starting a job from Slack: the one path shared by /sora, the modal, reactions and the
buttons under a result."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.buttons import offer_message
from adapters.slack.context import SlackContext
from adapters.slack.media import ImageError
from adapters.slack.status import SlackStatus
from bot import library
from bot.models import Job, Requester, VideoRequest
from bot.status import REF

log = logging.getLogger(__name__)

NO_PUBLIC_URL_CONTINUE = (
    "Continuing from the last frame hands the video service that frame at a public address, "
    "and `PUBLIC_BASE_URL` is not set. An admin needs to set `PUBLIC_BASE_URL` to the bot's "
    "public https address (the server that answers at /media/...)."
)


@dataclass(frozen=True)
class Where:
    """The conversation a job reports to."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None
    #: The message a reaction job animates: one live job per member and message.
    source_ts: str | None = None


@dataclass(frozen=True)
class Lineage:
    """What a job is made from: `parent` (edited or continued), `continue_from` (a job whose
    last frame starts it)."""

    parent: str | None = None
    continue_from: str | None = None


def events_for(ctx: SlackContext, job: Job) -> SlackStatus:
    """A job's status message, rebuilt from its stored origin."""
    return SlackStatus(ctx, job.origin)


async def start_job(ctx: SlackContext, request: VideoRequest, requester: Requester, where: Where,
                    request_key: str, lineage: Lineage = Lineage()) -> str | dict[str, Any]:
    """Check, then start the job and return the private answer (cost and what is left
    today); above SORA_CONFIRM_ABOVE_USD return an offer with Confirm / Cancel instead, with
    nothing reserved. `request_key` names the Slack request (trigger_id, event_id, view id):
    Slack retries and replays of it start nothing. Raises a SoraError with nothing stored."""
    cost = await ctx.chat.check(request, requester)
    if ctx.chat.needs_confirm(cost):
        offer = ctx.chat.offer(request, requester, cost, {
            "where": where, "request_key": request_key, "lineage": lineage})
        return offer_message(offer.id, ctx.chat.offer_text(offer))
    return await launch(ctx, request, requester, where, request_key, lineage)


async def launch(ctx: SlackContext, request: VideoRequest, requester: Requester, where: Where,
                 request_key: str, lineage: Lineage = Lineage()) -> str:
    """Start a checked (and, when it had to be, confirmed) request."""
    sequence = None
    if lineage.continue_from:
        request, where, sequence = await continuation(ctx, request, lineage.continue_from,
                                                      requester, where)
    origin = {"channel": where.channel}
    if where.thread_ts:
        origin["thread_ts"] = where.thread_ts
    respond = (AsyncWebhookClient(where.response_url, session=ctx.runtime.session)
               if where.response_url else None)
    events = SlackStatus(ctx, origin, respond)
    source = f"{where.channel}/{where.source_ts}" if where.source_ts else None
    started = await ctx.chat.start(request, requester, events, origin, source=source,
                                   request_key=f"slack:{requester.team}:{request_key}",
                                   parent=lineage.parent, sequence=sequence)
    return started.text("in the thread" if where.thread_ts else "in the channel")


async def continuation(ctx: SlackContext, request: VideoRequest, parent_id: str,
                       who: Requester, where: Where) -> tuple[VideoRequest, Where, str]:
    """The request with the parent's last frame (hosted at PUBLIC_BASE_URL/media/...) as its
    image, the sequence's thread (the first clip's), and the sequence id."""
    if not ctx.links.enabled:
        raise ImageError(NO_PUBLIC_URL_CONTINUE)
    parent, frame = await library.last_frame(ctx.chat.engine.store, parent_id, who.team)
    sequence = library.sequence_of(parent)
    first = await ctx.chat.engine.job(sequence) or parent
    if first.requester.platform == "slack" and first.origin.get("channel"):
        thread = first.origin.get("thread_ts") or first.origin.get(REF)
        where = Where(first.origin["channel"], thread_ts=thread, response_url=where.response_url)
    return replace(request, image_url=ctx.links.publish(frame)), where, sequence
