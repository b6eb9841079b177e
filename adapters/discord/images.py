"""Image-to-video from an existing message: the "Animate with Sora" context menu (works
without the MESSAGE_CONTENT intent) and the reaction emoji (needs it to see attachments)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from adapters.discord.jobs import first_image, requester, start, start_from_interaction
from bot.errors import InvalidRequest, QuotaExceeded
from bot.models import Requester, VideoRequest
from bot.settings import Settings

if TYPE_CHECKING:
    from adapters.discord.client import SoraBot

log = logging.getLogger(__name__)

NO_IMAGE = "That message has no image attachment to animate."


def image_request(settings: Settings, text: str, image_url: str) -> VideoRequest:
    """Reaction and context-menu jobs: settings' model and duration, the message's text as the
    prompt (or the default prompt), aspect left to the image."""
    prompt = " ".join(text.split()) or settings.reaction_prompt
    return VideoRequest(prompt=prompt[:settings.max_prompt_chars], model=settings.reaction_model,
                        duration=settings.reaction_duration, aspect=None, image_url=image_url)


def context_menu() -> app_commands.ContextMenu:
    @app_commands.guild_only()
    async def animate(interaction: discord.Interaction, message: discord.Message) -> None:
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        image = first_image(message.attachments)
        if image is None:
            await interaction.response.send_message(NO_IMAGE, ephemeral=True)
            return
        await start_from_interaction(interaction, image_request(bot.settings, message.content, image.url))

    return app_commands.ContextMenu(name="Animate with Sora", callback=animate)


def _matches(emoji: discord.PartialEmoji, wanted: str) -> bool:
    return str(emoji) == wanted or emoji.name == wanted.strip(":")


def _already_started(bot: SoraBot, who: Requester, message_id: int) -> bool:
    """Removing and re-adding a reaction must not pay for the same video twice; a failed
    job may be tried again."""
    return any(job.origin.get("reply_to") == message_id and job.status != "failed"
               for job in bot.engine.jobs(team=who.team, user=who.user, limit=50))


async def on_reaction(bot: SoraBot, event: discord.RawReactionActionEvent) -> None:
    """Start image-to-video from the reacted-to message, charged to the member who reacted."""
    member = event.member
    if event.guild_id is None or member is None or member.bot:
        return
    if not _matches(event.emoji, bot.settings.reaction_emoji):
        return
    channel = bot.get_partial_messageable(event.channel_id, guild_id=event.guild_id)
    try:
        message = await channel.fetch_message(event.message_id)
    except discord.HTTPException:
        log.warning("Could not read message %s for a reaction", event.message_id, exc_info=True)
        return
    reply = discord.MessageReference(message_id=message.id, channel_id=event.channel_id,
                                     fail_if_not_exists=False)
    mention = discord.AllowedMentions(users=[discord.Object(member.id)])
    image = first_image(message.attachments)
    if image is None:
        if bot.settings.reaction_explain_no_image:
            why = NO_IMAGE if bot.intents.message_content else (
                "I cannot see this message's attachments (the bot lacks the Message Content "
                "intent). Use the message's Apps menu: “Animate with Sora”.")
            await channel.send(f"<@{member.id}> {why}", reference=reply, allowed_mentions=mention)
        return
    who = requester(event.guild_id, member)
    if _already_started(bot, who, message.id):
        log.info("Reaction by %s on %s ignored: a job for it is already made or running",
                 member.id, message.id)
        return
    guild = bot.get_guild(event.guild_id)
    try:
        await start(bot, image_request(bot.settings, message.content, image.url),
                    who, channel_id=event.channel_id,
                    filesize_limit=guild.filesize_limit if guild else None, reply_to=message.id)
    except (InvalidRequest, QuotaExceeded) as exc:
        await channel.send(f"<@{member.id}> {exc.user_message}", reference=reply, allowed_mentions=mention)
