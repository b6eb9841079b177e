"""The JobEvents of a Discord job: one status message in the channel, edited as the job moves,
then the MP4 posted as the bot's own channel message (it outlives the interaction token)."""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import upload
from adapters.discord.text import header, stage_line
from bot.errors import DeliveryFailed, SoraError
from bot.models import Job, Progress

if TYPE_CHECKING:
    from adapters.discord.client import SoraBot

log = logging.getLogger(__name__)


class StatusMessage:
    """JobEvents for one job. Everything it needs is in `origin`, so it can be rebuilt after a
    restart: guild_id, channel_id, message_id (the status message), reply_to, filesize_limit."""

    def __init__(self, bot: SoraBot, origin: dict[str, Any]) -> None:
        self.bot = bot
        self.origin = origin
        guild_id = origin.get("guild_id")
        self.channel = bot.get_partial_messageable(int(origin["channel_id"]),
                                                   guild_id=int(guild_id) if guild_id else None)

    # -- JobEvents -------------------------------------------------------------------------

    async def accepted(self, job: Job) -> None:
        if self.origin.get("message_id"):  # posted before a restart: reuse it
            await self._show(job, "⏳ Accepted")
            return
        reference = self._reference()
        message = await self.channel.send(
            f"{header(job)}\n⏳ Accepted", reference=reference,
            allowed_mentions=discord.AllowedMentions.none())
        self.origin["message_id"] = message.id
        self.bot.engine.set_origin(job.id, message_id=message.id)

    async def progress(self, job: Job, progress: Progress) -> None:
        await self._show(job, stage_line(progress))

    async def completed(self, job: Job, video: Path) -> None:
        await self._show(job, "⬆️ Uploading…")
        try:
            sent = await upload.deliver(self, job, video)
        except Exception:
            with contextlib.suppress(discord.HTTPException):
                await self._show(job, "⚠️ The video was made but could not be posted here. "
                                      "An admin can find it in the bot's log.")
            raise
        if sent is None:
            raise DeliveryFailed("The video is too large to upload here, even after shrinking.")
        await self._show(job, f"✅ Done: {sent.jump_url}")

    async def failed(self, job: Job, error: SoraError) -> None:
        await self._show(job, f"❌ {error.user_message}")

    # -- helpers ---------------------------------------------------------------------------

    def _reference(self) -> discord.MessageReference | None:
        reply_to = self.origin.get("reply_to")
        if not reply_to:
            return None
        return discord.MessageReference(message_id=int(reply_to), channel_id=self.channel.id,
                                        fail_if_not_exists=False)

    async def _show(self, job: Job, line: str) -> None:
        """Edit the status message; post a new one if it is gone (deleted, or never posted)."""
        content = f"{header(job)}\n{line}"
        message_id = self.origin.get("message_id")
        if message_id:
            try:
                await self.channel.get_partial_message(int(message_id)).edit(
                    content=content, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.NotFound:
                log.info("Status message of job %s is gone; posting a new one", job.id)
        message = await self.channel.send(content, allowed_mentions=discord.AllowedMentions.none())
        self.origin["message_id"] = message.id
        self.bot.engine.set_origin(job.id, message_id=message.id)

    async def note(self, job: Job, line: str) -> None:
        await self._show(job, line)

    @property
    def filesize_limit(self) -> int:
        return int(self.origin.get("filesize_limit") or upload.DEFAULT_LIMIT)

