"""Starting a job from Slack: the one path shared by /sora, the modal and reactions."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.context import SlackContext
from adapters.slack.status import SlackStatus
from bot.models import Job, Requester, VideoRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """The conversation a job reports to."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None
    #: The message a reaction job animates: one live job per member and message.
    source_ts: str | None = None


def events_for(ctx: SlackContext, job: Job) -> SlackStatus:
    """A job's status message, rebuilt from its stored origin."""
    return SlackStatus(ctx, job.origin)


async def start_job(ctx: SlackContext, request: VideoRequest, requester: Requester, where: Where,
                    request_key: str) -> str:
    """Check, start the job, and return the private answer (cost and what is left today).
    `request_key` names the Slack request (trigger_id, event_id, view id): Slack retries
    and replays of it start nothing. Raises a SoraError with nothing stored or charged."""
    await ctx.chat.check(request, requester)
    origin = {"channel": where.channel}
    if where.thread_ts:
        origin["thread_ts"] = where.thread_ts
    respond = (AsyncWebhookClient(where.response_url, session=ctx.runtime.session)
               if where.response_url else None)
    events = SlackStatus(ctx, origin, respond)
    source = f"{where.channel}/{where.source_ts}" if where.source_ts else None
    started = await ctx.chat.start(request, requester, events, origin, source=source,
                                   request_key=f"slack:{requester.team}:{request_key}")
    return started.text("in the thread" if where.thread_ts else "in the channel")
