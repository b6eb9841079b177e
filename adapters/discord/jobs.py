"""Starting a job from Discord: who pays, where its messages go, and what the user is told."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from adapters.discord.status import StatusMessage
from adapters.discord.upload import DEFAULT_LIMIT
from bot.engine import Accepted
from bot.errors import InvalidRequest, QuotaExceeded
from bot.models import Requester, VideoRequest, usd

if TYPE_CHECKING:
    from adapters.discord.client import SoraBot

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")


def requester(guild_id: int | None, user: discord.abc.User) -> Requester:
    return Requester(platform="discord", team=str(guild_id or f"dm-{user.id}"), user=str(user.id),
                     name=user.display_name)


def first_image(attachments: list[discord.Attachment]) -> discord.Attachment | None:
    for attachment in attachments:
        kind = (attachment.content_type or "").split(";")[0].strip().lower()
        if kind.startswith("image/") or attachment.filename.lower().endswith(IMAGE_EXTENSIONS):
            return attachment
    return None


async def start(bot: SoraBot, request: VideoRequest, who: Requester, *, channel_id: int,
                filesize_limit: int | None, reply_to: int | None = None) -> Accepted:
    """Submit the job; its status message and result go to `channel_id`. Raises
    InvalidRequest / QuotaExceeded with nothing charged."""
    origin = {"guild_id": int(who.team) if who.team.isdigit() else None, "channel_id": channel_id,
              "filesize_limit": filesize_limit or DEFAULT_LIMIT, "reply_to": reply_to}
    return await bot.engine.submit(request, who, StatusMessage(bot, origin), origin)


def missing_permissions(perms: discord.Permissions) -> str:
    """The channel permissions the bot lacks to post status messages and videos ('' if none)."""
    needed = {"View Channel": perms.view_channel, "Attach Files": perms.attach_files,
              "Send Messages": perms.send_messages or perms.send_messages_in_threads}
    return ", ".join(name for name, ok in needed.items() if not ok)


def accepted_text(accepted: Accepted) -> str:
    left = accepted.left_today
    left_text = "no budget limit today" if left is None else f"{usd(left)} left for you today"
    return (f"Started `{accepted.job.id}`: estimated cost {usd(accepted.job.cost_micros)}; "
            f"{left_text}. Progress and the video will appear in this channel.")


async def start_from_interaction(interaction: discord.Interaction, request: VideoRequest) -> None:
    """The answer to every interaction that makes a video: check at once, defer, submit, say
    what it costs. Refusals are ephemeral and charge nothing."""
    bot: SoraBot = interaction.client  # type: ignore[assignment]
    missing = missing_permissions(interaction.app_permissions)
    if missing:
        await interaction.response.send_message(
            f"I cannot post videos in this channel: I need the {missing} permission(s) here.",
            ephemeral=True)
        return
    try:
        bot.engine.quote(request)  # an invalid combination is refused before anything else
    except InvalidRequest as exc:
        await interaction.response.send_message(exc.user_message, ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        accepted = await start(
            bot, request, requester(interaction.guild_id, interaction.user),
            channel_id=interaction.channel_id or 0, filesize_limit=interaction.filesize_limit,
            reply_to=None)
    except (InvalidRequest, QuotaExceeded) as exc:
        await interaction.followup.send(exc.user_message, ephemeral=True)
        return
    await interaction.followup.send(accepted_text(accepted), ephemeral=True)
