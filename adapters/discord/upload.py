"""Posting the finished MP4: shrink it to the upload limit when needed, then upload."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from adapters.discord.buttons import result_view
from adapters.discord.text import describe, size_text
from bot import transcode
from bot.models import Job

if TYPE_CHECKING:
    from adapters.discord.status import StatusMessage

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 10 * 1024 * 1024


async def deliver(status: StatusMessage, job: Job, video: Path) -> discord.Message | None:
    """Upload the video as the bot's own message; None when it cannot be made to fit."""
    limit, size = status.filesize_limit, video.stat().st_size
    path = video
    if size > limit:
        await status.note(job, f"🗜️ Shrinking the video ({size_text(size)}) to fit the {size_text(limit)} upload limit…")
        shrunk = await transcode.shrink(video, limit)
        if shrunk is None:
            log.warning("Job %s: %s (%d bytes) cannot be shrunk under the %d-byte upload limit",
                        job.id, video.resolve(), size, limit)
            await status.note(job, (
                f"⚠️ The video is {size_text(size)}, over this server's {size_text(limit)} upload limit, and "
                f"could not be shrunk to fit. An admin can find it on the bot's host as "
                f"`{video.name}`."))
            return None
        path = shrunk
        await status.note(job, "⬆️ Uploading…")
    user = int(job.requester.user)
    content = f"<@{user}> your video is ready · {describe(job)}\n> {job.request.prompt[:1500]}"
    view = result_view(job)
    try:
        message = await status.channel.send(
            content, file=discord.File(path, filename=f"{job.id}.mp4"), view=view,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(user)]))
    finally:
        view.stop()  # the buttons are dynamic items: no per-message view needs keeping
        if path != video:
            path.unlink(missing_ok=True)
    return message
