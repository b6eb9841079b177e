"""Starting a job from Slack: the one path shared by /sora, the modal and reactions."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.slack import texts
from adapters.slack.context import SlackContext
from adapters.slack.events import SlackJobEvents
from bot.models import Requester, VideoRequest, usd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Where:
    """The conversation a job reports to."""

    channel: str
    thread_ts: str | None = None
    response_url: str | None = None
    #: The message a reaction job animates, to start one job per member and message.
    source_ts: str | None = None


async def start_job(ctx: SlackContext, request: VideoRequest, requester: Requester, where: Where) -> str:
    """Submit the job and return the first reply (cost estimate and what is left today).
    Raises InvalidRequest / QuotaExceeded with nothing stored or charged."""
    origin: dict[str, str] = {"channel": where.channel}
    if where.thread_ts:
        origin["thread_ts"] = where.thread_ts
    if where.source_ts:
        origin["source_ts"] = where.source_ts
    events = SlackJobEvents(ctx, origin, respond_url=where.response_url)
    accepted = await ctx.runtime.engine.submit(request, requester, events, origin=origin)
    job = accepted.job
    log.info("Slack job %s started by %s/%s", job.id, requester.team, requester.user)
    return (f"Making your video ({texts.describe(job)}). Estimated cost {usd(job.cost_micros)}. "
            f"{texts.left_text(accepted.left_today)} Progress is posted in the channel"
            f"{' thread' if where.thread_ts else ''}.")
