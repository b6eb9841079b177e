"""Starting a job from Discord: who pays, where its messages go, and the private answer."""
from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.buttons import result_buttons
from adapters.discord.status import DEFAULT_LIMIT, DiscordStatus
from bot.chat import ChatJobs, Started
from bot.errors import SoraError
from bot.models import Job, Requester, VideoRequest

log = logging.getLogger(__name__)

WHERE = "in this channel"


def requester(guild_id: int | None, user: discord.abc.User) -> Requester:
    return Requester(platform="discord", team=str(guild_id or f"dm-{user.id}"), user=str(user.id),
                     name=user.display_name)


def missing_permissions(perms: discord.Permissions) -> str:
    """The channel permissions the bot lacks to post status messages and videos ('' if none)."""
    needed = {"View Channel": perms.view_channel, "Attach Files": perms.attach_files,
              "Send Messages": perms.send_messages or perms.send_messages_in_threads}
    return ", ".join(name for name, ok in needed.items() if not ok)


class DiscordJobs:
    """The Discord side of the chat-job layer, handed to every cog that starts jobs."""

    def __init__(self, client: commands.Bot, chat: ChatJobs) -> None:
        self.client = client
        self.chat = chat
        #: Re-roll and pro buttons under each result; a press starts a job like /sora does.
        self.buttons, self.view_for = result_buttons(chat.engine, self.from_interaction)

    def events_for(self, job: Job) -> DiscordStatus:
        """A job's status message, rebuilt from its stored origin."""
        return DiscordStatus(self.client, job.origin, self.view_for, self.chat.transcoder)

    async def start(self, request: VideoRequest, who: Requester, *, channel_id: int,
                    filesize_limit: int | None, reply_to: int | None = None,
                    source: str | None = None) -> Started:
        origin: dict[str, Any] = {
            "guild_id": int(who.team) if who.team.isdigit() else None, "channel_id": channel_id,
            "filesize_limit": filesize_limit or DEFAULT_LIMIT, "reply_to": reply_to}
        events = DiscordStatus(self.client, origin, self.view_for, self.chat.transcoder)
        return await self.chat.start(request, who, events, origin, source=source)

    async def from_interaction(self, interaction: discord.Interaction,
                               request: VideoRequest) -> None:
        """The answer to every interaction that makes a video: check at once, defer, start,
        say what it costs. Refusals are private and charge nothing."""
        who = requester(interaction.guild_id, interaction.user)
        try:
            await self.chat.check(request, who, missing_permissions(interaction.app_permissions))
        except SoraError as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            started = await self.start(request, who, channel_id=interaction.channel_id or 0,
                                       filesize_limit=interaction.filesize_limit)
        except SoraError as exc:
            await interaction.followup.send(exc.user_message, ephemeral=True)
            return
        await interaction.followup.send(started.text(WHERE), ephemeral=True)
