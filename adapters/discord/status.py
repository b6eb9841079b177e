"""A Discord job's status message: the bot's own channel message (it outlives the 15-minute
interaction token), edited as the job moves; the MP4 posted as a new message, shrunk to the
upload limit when needed. The lifecycle is the core's (`bot.status.StatusMessage`)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord

from adapters.discord.markup import MARKUP, NO_MENTIONS
from bot import transcode
from bot.transcode import Transcoder
from bot.errors import DeliveryFailed
from bot.models import Job
from bot.status import MessageGone, StatusMessage

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 10 * 1024 * 1024  # an unboosted server's upload limit
ViewFor = Callable[[Job], discord.ui.View]
#: Where a job's origin keeps the id of the message that carries its video.
RESULT = "result_id"


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


class DiscordStatus(StatusMessage):
    """Built from `job.origin` (guild_id, channel_id, reply_to, filesize_limit), so the same
    code serves a new job and one resumed after a restart."""

    markup = MARKUP

    def __init__(self, client: discord.Client, origin: dict[str, Any], view_for: ViewFor,
                 transcoder: Transcoder) -> None:
        self.transcoder = transcoder
        guild_id = origin.get("guild_id")
        self.channel = client.get_partial_messageable(int(origin["channel_id"]),
                                                      guild_id=int(guild_id) if guild_id else None)
        self.reply_to = origin.get("reply_to")
        self.limit = int(origin.get("filesize_limit") or DEFAULT_LIMIT)
        self.view_for = view_for
        self.bot_id = client.user.id if client.user else 0

    async def post(self, job: Job, text: str) -> str:
        if self.reply_to:  # a reaction job: the status answers the message it animates
            reference = discord.MessageReference(message_id=int(self.reply_to),
                                                 channel_id=self.channel.id, fail_if_not_exists=False)
            message = await self.channel.send(text, reference=reference, allowed_mentions=NO_MENTIONS)
        else:
            message = await self.channel.send(text, allowed_mentions=NO_MENTIONS)
        return str(message.id)

    async def edit(self, job: Job, ref: str, text: str) -> None:
        try:
            await self.channel.get_partial_message(int(ref)).edit(content=text,
                                                                  allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            raise MessageGone() from None

    async def upload(self, job: Job, video: Path, caption: str) -> str | None:
        path = await self._fitting(job, video)
        user = discord.Object(int(job.requester.user))
        view = self.view_for(job)
        try:
            # The nonce makes Discord answer a retried send with the first message, not a
            # second one (discord.py sends enforce_nonce with it).
            message = await self.channel.send(
                caption, file=discord.File(path, filename=f"{job.id}.mp4"), view=view,
                allowed_mentions=discord.AllowedMentions(users=[user]), nonce=job.id)
        finally:
            view.stop()  # the buttons are dynamic items: no per-message view needs keeping
            if path != video:
                path.unlink(missing_ok=True)
        # Where the result is: a sequence's thread starts from its first result message.
        job.origin[RESULT] = str(message.id)
        return message.jump_url

    async def find_posted(self, job: Job) -> str | None:
        """The bot's message carrying this job's MP4 among the channel's recent ones."""
        name = f"{job.id}.mp4"
        async for message in self.channel.history(limit=50):
            if message.author.id == self.bot_id and any(a.filename == name for a in message.attachments):
                return message.jump_url
        return None

    async def _fitting(self, job: Job, video: Path) -> Path:
        """The video, or a copy shrunk under the upload limit; DeliveryFailed when it cannot."""
        size = video.stat().st_size
        if size <= self.limit:
            return video
        if self.transcoder.must_wait:
            await self.show(job, f"⏳ Waiting to shrink the video ({size_text(size)}): other "
                                 "videos are being shrunk")
        async with self.transcoder.turn():
            await self.show(job, f"🗜️ Shrinking the video ({size_text(size)}) to fit the "
                                 f"{size_text(self.limit)} upload limit…")
            shrunk = await transcode.shrink(video, self.limit)
        if shrunk is None:
            log.warning("Job %s: %s (%d bytes) cannot be shrunk under the %d-byte upload limit",
                        job.id, video.resolve(), size, self.limit)
            await self.show(job, (
                f"⚠️ The video is {size_text(size)}, over this server's {size_text(self.limit)} "
                f"upload limit, and could not be shrunk to fit. An admin can find it on the "
                f"bot's host as `{video.name}`."))
            raise DeliveryFailed("The video is too large to upload here, even after shrinking.")
        await self.show(job, "⬆️ Uploading the video")
        return shrunk
