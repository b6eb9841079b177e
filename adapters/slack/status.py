"""A Slack job's status message: posted with chat.postMessage, edited with chat.update, the
MP4 uploaded with files_upload_v2 into the same channel or thread. The lifecycle is the
core's (`bot.status.StatusMessage`)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.buttons import result_blocks
from adapters.slack.context import SlackContext
from adapters.slack.markup import MARKUP, slack_error
from bot import texts
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


class UploadError(Exception):
    """Sending the bytes failed: a passing fault, tried again by the core."""


class SlackStatus(StatusMessage):
    """Built from `job.origin` (channel, thread_ts), so it serves new and resumed jobs alike."""

    markup = MARKUP

    def __init__(self, ctx: SlackContext, origin: dict[str, Any],
                 respond: AsyncWebhookClient | None = None) -> None:
        self.client = ctx.client
        self.session = ctx.runtime.session
        self.uploads = ctx.uploads
        # A 200 MB video over a slow link: bounded by socket reads, not by a total.
        self.upload_timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
        self.catalogue = ctx.settings.catalogue
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
        # files_upload_v2's three steps, with the bytes streamed from disk: slack_sdk reads
        # the whole file into memory first, on the event loop (33 MB per upload in flight).
        name = f"sora-{job.id}.mp4"
        try:
            async with self.uploads:
                target = await self.client.files_getUploadURLExternal(
                    filename=name, length=video.stat().st_size)
                await self._send_bytes(str(target["upload_url"]), video)
                done = await self.client.files_completeUploadExternal(
                    files=[{"id": target["file_id"], "title": texts.short(job.request.prompt, 80)}],
                    channel_id=self.channel, thread_ts=self.thread_ts, initial_comment=caption)
            # The 🗑 button deletes the file with the status message.
            job.origin[FILES] = [f["id"] for f in done.get("files") or [] if f.get("id")]
        except SlackApiError as exc:
            code = slack_error(exc)
            log.error("Uploading job %s to %s failed: %s", job.id, self.channel, code)
            await self.show(job, f"⚠️ The video was made but Slack refused the upload ({code}).")
            raise DeliveryFailed(f"Slack refused the upload ({code}).") from exc
        return None

    async def _send_bytes(self, url: str, video: Path) -> None:
        """POST the file to Slack's one-time upload URL, read from disk in chunks as sent.
        Slack's URL carries its own authorisation: the bot token is not sent with it."""
        with video.open("rb") as body:
            async with self.session.post(url, data=body, timeout=self.upload_timeout) as resp:
                if resp.status != 200:
                    raise UploadError(f"Slack's upload address answered HTTP {resp.status}")

    async def find_posted(self, job: Job) -> str | None:
        """The shared file of this job among the conversation's (or thread's) recent messages."""
        name = f"sora-{job.id}.mp4"
        if self.thread_ts:
            resp = await self.client.conversations_replies(channel=self.channel, ts=self.thread_ts,
                                                           limit=50)
        else:
            resp = await self.client.conversations_history(channel=self.channel, limit=50)
        for message in resp.get("messages") or []:
            if any(f.get("name") == name for f in message.get("files") or []):
                return ""
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
