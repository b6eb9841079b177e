"""Image-to-video by reaction: the configured emoji on a message with an image starts a job
from that image, charged to the member who reacted, replying to the message. Needs the
Message Content intent to see attachments (the message menu works without it)."""
from __future__ import annotations

import logging

import discord
from discord.ext import commands

from adapters.discord.commands import first_image
from adapters.discord.jobs import DiscordJobs, requester
from bot.errors import AlreadyStarted, SoraError
from bot.images import NO_IMAGE
from bot.models import usd

log = logging.getLogger(__name__)

NO_INTENT = ("I cannot see this message's attachments (the bot lacks the Message Content "
             "intent). Use the message's Apps menu: “Animate with Sora”.")


class Reactions(commands.Cog):
    def __init__(self, jobs: DiscordJobs) -> None:
        self.jobs = jobs
        self.settings = jobs.chat.settings

    def _wanted(self, emoji: discord.PartialEmoji) -> bool:
        wanted = self.settings.reaction_emoji
        return str(emoji) == wanted or emoji.name == wanted.strip(":")

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        member = event.member
        if event.guild_id is None or member is None or member.bot or not self._wanted(event.emoji):
            return
        client = self.jobs.client
        channel = client.get_partial_messageable(event.channel_id, guild_id=event.guild_id)
        try:
            message = await channel.fetch_message(event.message_id)
        except discord.HTTPException:
            log.warning("Could not read message %s for a reaction", event.message_id, exc_info=True)
            return
        reply = discord.MessageReference(message_id=message.id, channel_id=event.channel_id,
                                         fail_if_not_exists=False)

        async def tell(text: str) -> None:
            await channel.send(f"<@{member.id}> {text}", reference=reply,
                               allowed_mentions=discord.AllowedMentions(users=[member]))

        image = first_image(message.attachments)
        if image is None:
            if self.settings.reaction_explain_no_image:
                await tell(NO_IMAGE if client.intents.message_content else NO_INTENT)
            return
        who = requester(event.guild_id, member)
        source = f"{event.channel_id}/{message.id}"
        if await self.jobs.chat.already_started(who, source):
            return  # removed and added again: the video is on its way or posted; say nothing
        request = self.jobs.chat.image_request(message.content, image.url)
        try:
            cost = await self.jobs.chat.check(request, who)
            if self.jobs.chat.needs_confirm(cost):
                # A reaction has no private answer to hold Confirm / Cancel: the menu has.
                await tell(f"That would cost {usd(cost)}, more than this server confirms "
                           "without asking: use **Apps > Animate with Sora** on the message "
                           "to see the cost and confirm it.")
                return
            guild = client.get_guild(event.guild_id)
            await self.jobs.start(request, who, channel_id=event.channel_id,
                                  filesize_limit=guild.filesize_limit if guild else None,
                                  reply_to=message.id, source=source)
        except AlreadyStarted:
            return  # a second reaction raced the first: one job, and no reply in the channel
        except SoraError as exc:
            await tell(exc.user_message)
