"""A Discord job's status message: the bot's own channel message (it outlives the 15-minute
interaction token), edited as the job moves; the MP4 posted as a new message, fitted to the
upload limit when needed (`bot.fitting`). The lifecycle is the core's
(`bot.status.StatusMessage`)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord

from adapters.discord.markup import MARKUP, NO_MENTIONS
from bot.fitting import CannotFit, UploadFitter
from bot.models import Job
from bot.status import MessageGone, StatusMessage
from bot.texts import size_text

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 10 * 1024 * 1024  # an unboosted server's upload limit
ViewFor = Callable[[Job], discord.ui.View]
#: Where a job's origin keeps the id of the message that carries its video.
RESULT = "result_id"


def too_large_text(exc: CannotFit) -> str:
    """Why a video cannot be posted on this server, in Discord's words."""
    return (f"The video is {size_text(exc.size)}, over this server's {size_text(exc.limit)} "
            "upload limit, and could not be shrunk to fit.")


class DiscordStatus(StatusMessage):
    """Built from `job.origin` (guild_id, channel_id, reply_to, filesize_limit), so the same
    code serves a new job and one resumed after a restart."""

    markup = MARKUP

    def __init__(self, client: discord.Client, origin: dict[str, Any], view_for: ViewFor,
                 fitter: UploadFitter) -> None:
        self.fitter = fitter
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
        user = discord.Object(int(job.requester.user))
        try:
            async with self.fitter.fitted(job, video, self.limit,
                                          lambda line: self.show(job, line)) as path:
                view = self.view_for(job)
                try:
                    # The nonce makes Discord answer a retried send with the first message,
                    # not a second one (discord.py sends enforce_nonce with it).
                    message = await self.channel.send(
                        caption, file=discord.File(path, filename=f"{job.id}.mp4"), view=view,
                        allowed_mentions=discord.AllowedMentions(users=[user]), nonce=job.id)
                finally:
                    view.stop()  # the buttons are dynamic items: no per-message view is kept
        except CannotFit as exc:  # logged by the fitter; the video stays on the host
            await self.show(job, f"⚠️ {too_large_text(exc)} An admin can find it on the bot's "
                                 f"host as `{video.name}`.")
            raise
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
