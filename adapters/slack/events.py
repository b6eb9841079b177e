"""JobEvents for Slack: one progress message per job, edited with chat.update, and the
MP4 uploaded with files_upload_v2 into the same channel or thread."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack import texts
from adapters.slack.context import SlackContext
from bot.errors import DeliveryFailed, SoraError
from bot.models import Job, Progress

log = logging.getLogger(__name__)

_POST_ERRORS = {
    "not_in_channel": "I am not in this channel. Invite me with `/invite @Sora` and try again.",
    "channel_not_found": "I cannot post in this conversation. Try a channel I am in, or a DM with me.",
    "is_archived": "This channel is archived.",
}


class CannotPost(SoraError):
    """The bot cannot post in the conversation; raised before anything is sent upstream."""


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code (a short identifier, safe to log and show)."""
    return str(exc.response.get("error", "unknown_error")) if exc.response is not None else "unknown_error"


class SlackJobEvents:
    """Rebuilt after a restart from `job.origin`: channel, thread_ts and message_ts."""

    def __init__(self, ctx: SlackContext, origin: dict[str, Any], respond_url: str | None = None) -> None:
        self.ctx = ctx
        self.channel: str = origin["channel"]
        self.thread_ts: str | None = origin.get("thread_ts")
        self.message_ts: str | None = origin.get("message_ts")
        self.respond_url = respond_url  # the slash command's response_url; never persisted

    @classmethod
    def factory(cls, ctx: SlackContext) -> Callable[[Job], SlackJobEvents]:
        return lambda job: cls(ctx, job.origin)

    async def accepted(self, job: Job) -> None:
        text = texts.status(job, ":hourglass: Queued")
        if self.message_ts:  # resumed: the message exists already
            await self._update(job, text)
            return
        try:
            resp = await self.ctx.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, unfurl_links=False)
        except SlackApiError as exc:
            code = slack_error(exc)
            log.warning("Cannot post the status of job %s in %s: %s", job.id, self.channel, code)
            raise CannotPost(_POST_ERRORS.get(code, "I could not post in this conversation.")) from None
        self.message_ts = resp["ts"]
        self.ctx.runtime.engine.set_origin(job.id, message_ts=self.message_ts)

    async def progress(self, job: Job, progress: Progress) -> None:
        await self._update(job, texts.status(job, texts.stage_text(progress)))

    async def completed(self, job: Job, video: Path) -> None:
        await self._update(job, texts.status(job, ":outbox_tray: Uploading the video"))
        try:
            await self.ctx.client.files_upload_v2(
                channel=self.channel, thread_ts=self.thread_ts, file=str(video),
                filename=f"sora-{job.id}.mp4", title=texts.short(job.request.prompt, 80),
                initial_comment=texts.upload_comment(job),
            )
        except SlackApiError as exc:
            code = slack_error(exc)
            log.error("Uploading job %s to %s failed: %s", job.id, self.channel, code)
            await self._update(job, texts.status(
                job, f":warning: The video was made but Slack refused the upload ({code})."))
            raise DeliveryFailed(f"Slack refused the upload ({code}).") from exc
        await self._update(job, texts.status(job, ":white_check_mark: Done: the video is below."))

    async def failed(self, job: Job, error: SoraError) -> None:
        text = texts.status(job, texts.failure(error.user_message))
        if self.message_ts:
            await self._update(job, text)
        elif self.respond_url:
            await self._respond(texts.failure(error.user_message))
        else:
            await self.ctx.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text)

    async def _update(self, job: Job, text: str) -> None:
        if not self.message_ts:
            return
        try:
            await self.ctx.client.chat_update(channel=self.channel, ts=self.message_ts, text=text)
        except SlackApiError as exc:
            log.warning("Updating the status of job %s failed: %s", job.id, slack_error(exc))

    async def _respond(self, text: str) -> None:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        hook = AsyncWebhookClient(self.respond_url or "", session=self.ctx.runtime.session)
        await hook.send(text=text, response_type="ephemeral")
