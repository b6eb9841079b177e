"""A Slack job's status message: posted with chat.postMessage, edited with chat.update, the
MP4 uploaded with files_upload_v2 into the same channel or thread. The lifecycle is the
core's (`bot.status.StatusMessage`)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.buttons import result_blocks
from adapters.slack.markup import MARKUP, slack_error
from bot import texts
from bot.catalogue import Catalogue
from bot.chat import CannotPost
from bot.errors import DeliveryFailed, SoraError
from bot.models import Job
from bot.status import REF, MessageGone, StatusMessage

log = logging.getLogger(__name__)

#: Where a job's origin keeps the ids of the files its video was posted as.
FILES = "files"

_POST_ERRORS = {
    "not_in_channel": "I am not in this channel. Invite me with `/invite @Sora` and try again.",
    "channel_not_found": "I cannot post in this conversation. Try a channel I am in, or a DM with me.",
    "is_archived": "This channel is archived.",
}


class SlackStatus(StatusMessage):
    """Built from `job.origin` (channel, thread_ts), so it serves new and resumed jobs alike."""

    markup = MARKUP

    def __init__(self, client: AsyncWebClient, origin: dict[str, Any], catalogue: Catalogue,
                 respond: AsyncWebhookClient | None = None) -> None:
        self.client = client
        self.catalogue = catalogue
        self.channel: str = origin["channel"]
        self.thread_ts: str | None = origin.get("thread_ts")
        self.respond = respond  # the slash command's response_url; never persisted

    async def post(self, job: Job, text: str) -> str:
        try:
            resp = await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, unfurl_links=False)
        except SlackApiError as exc:
            code = slack_error(exc)
            log.warning("Cannot post the status of job %s in %s: %s", job.id, self.channel, code)
            raise CannotPost(_POST_ERRORS.get(code, "I could not post in this conversation.")) from None
        return str(resp["ts"])

    async def edit(self, job: Job, ref: str, text: str) -> None:
        try:
            await self.client.chat_update(channel=self.channel, ts=ref, text=text)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code == "message_not_found":
                raise MessageGone() from None
            log.warning("Updating the status of job %s failed: %s", job.id, code)

    async def upload(self, job: Job, video: Path, caption: str) -> str | None:
        try:
            resp = await self.client.files_upload_v2(
                channel=self.channel, thread_ts=self.thread_ts, file=str(video),
                filename=f"sora-{job.id}.mp4", title=texts.short(job.request.prompt, 80),
                initial_comment=caption)
            # The 🗑 button deletes the file with the status message.
            job.origin[FILES] = [f["id"] for f in resp.get("files") or [] if f.get("id")]
        except SlackApiError as exc:
            code = slack_error(exc)
            log.error("Uploading job %s to %s failed: %s", job.id, self.channel, code)
            await self.show(job, f"⚠️ The video was made but Slack refused the upload ({code}).")
            raise DeliveryFailed(f"Slack refused the upload ({code}).") from exc
        return None

    async def completed(self, job: Job, video: Path) -> str | None:
        """The core's delivery, then the creative loop's buttons on the status message."""
        ref = await super().completed(job, video)
        status_ts = job.origin.get(REF)
        if status_ts:
            text = f"{texts.headline(job, self.markup)}\n{texts.done_line(None)}"
            spec = self.catalogue.specs.get(self.catalogue.resolve(job.request.model) or "")
            can_continue = bool(spec and spec.images)
            offers = tuple(name for name, on in (("remix", spec and spec.remix),
                                                 ("extend", spec and spec.extend))
                           if on and job.task_id)
            try:
                await self.client.chat_update(channel=self.channel, ts=str(status_ts), text=text,
                                              blocks=result_blocks(job, text, can_continue, offers))
            except SlackApiError as exc:
                log.warning("Adding the buttons to job %s failed: %s", job.id, slack_error(exc))
        return ref

    async def failed(self, job: Job, error: SoraError) -> str | None:
        if not job.origin.get(REF) and self.respond is not None:
            # No status message could be posted (e.g. not in the channel): answer privately.
            await self.respond.send(text=texts.failure_line(error.user_message),
                                    response_type="ephemeral")
            return None
        return await super().failed(job, error)
