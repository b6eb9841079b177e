"""Starting a job from Discord: who pays, where its messages go, and the private answer."""
from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.buttons import offer_buttons, result_buttons
from adapters.discord.creative import Creative
from adapters.discord.status import DEFAULT_LIMIT, DiscordStatus
from adapters.discord.who import requester
from bot.chat import ChatJobs, Started
from bot.errors import SoraError
from bot.models import Job, Requester, VideoRequest

log = logging.getLogger(__name__)

WHERE = "in this channel"
__all__ = ["DiscordJobs", "missing_permissions", "requester"]


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
        #: Edit, continue, stitch, delete, show: the creative loop's Discord side.
        self.creative = Creative(client, chat, self)
        #: Buttons under each result; a press that makes a video starts a job like /sora does.
        self.buttons, self.view_for = result_buttons(chat.engine, self.creative.press)
        #: Confirm / Cancel under an offer to make an expensive video.
        self.offer_buttons, self.offer_view = offer_buttons(self.creative.answer)

    def events_for(self, job: Job) -> DiscordStatus:
        """A job's status message, rebuilt from its stored origin."""
        return DiscordStatus(self.client, job.origin, self.view_for, self.chat.fitter)

    async def start(self, request: VideoRequest, who: Requester, *, channel_id: int,
                    filesize_limit: int | None, reply_to: int | None = None,
                    source: str | None = None, parent: str | None = None,
                    sequence: str | None = None) -> Started:
        origin: dict[str, Any] = {
            "guild_id": int(who.team) if who.team.isdigit() else None, "channel_id": channel_id,
            "filesize_limit": filesize_limit or DEFAULT_LIMIT, "reply_to": reply_to}
        events = DiscordStatus(self.client, origin, self.view_for, self.chat.fitter)
        return await self.chat.start(request, who, events, origin, source=source, parent=parent,
                                     sequence=sequence)

    async def from_interaction(self, interaction: discord.Interaction, request: VideoRequest, *,
                               parent: str | None = None, continue_from: str | None = None) -> None:
        """The answer to every interaction that makes a video: check at once; above the
        confirm threshold offer Confirm / Cancel; otherwise defer, start, say what it costs.
        Refusals are private and charge nothing."""
        who = requester(interaction.guild_id, interaction.user)
        try:
            cost = await self.chat.check(request, who, missing_permissions(interaction.app_permissions))
        except SoraError as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        context = {"channel_id": interaction.channel_id or 0, "parent": parent,
                   "filesize_limit": interaction.filesize_limit, "continue_from": continue_from}
        if self.chat.needs_confirm(cost):
            offer = self.chat.offer(request, who, cost, context)
            await interaction.response.send_message(self.chat.offer_text(offer), ephemeral=True,
                                                    view=self.offer_view(offer.id))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.launch(interaction, request, who, context)

    async def launch(self, interaction: discord.Interaction, request: VideoRequest,
                     who: Requester, context: dict[str, Any]) -> None:
        """Start a checked (and, if it had to be, confirmed) request; the interaction is
        deferred. A continuation first finds its frame and its sequence's thread."""
        where = WHERE
        kwargs: dict[str, Any] = {"channel_id": context["channel_id"], "parent": context.get("parent"),
                                  "filesize_limit": context.get("filesize_limit")}
        try:
            if context.get("continue_from"):
                request, kwargs = await self.creative.continuation(request, context["continue_from"],
                                                                   who, kwargs)
                where = "in the sequence's thread"
            started = await self.start(request, who, **kwargs)
        except SoraError as exc:
            await interaction.followup.send(exc.user_message, ephemeral=True)
            return
        await interaction.followup.send(started.text(where), ephemeral=True)
