"""/sora, /sora-usage, /sora-jobs and the message menu "Animate with Sora"."""
from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.jobs import DiscordJobs, requester
from adapters.discord.markup import MARKUP
from bot import validation
from bot.images import NO_IMAGE, is_image
from bot.models import VideoRequest

log = logging.getLogger(__name__)

Choice = app_commands.Choice


def first_image(attachments: list[discord.Attachment]) -> discord.Attachment | None:
    return next((a for a in attachments if is_image(a.content_type, a.filename)), None)


class Video(commands.Cog):
    """Making videos. The option values come from the core's vocabulary."""

    def __init__(self, jobs: DiscordJobs) -> None:
        self.jobs = jobs
        self.chat = jobs.chat
        self.animate = app_commands.ContextMenu(name="Animate with Sora", callback=self._animate)
        self.animate.guild_only = True

    async def cog_load(self) -> None:
        # Context menus cannot be methods of a cog; this one is added and removed with it.
        self.jobs.client.add_dynamic_items(self.jobs.buttons)
        self.jobs.client.tree.add_command(self.animate)

    async def cog_unload(self) -> None:
        self.jobs.client.tree.remove_command(self.animate.name, type=self.animate.type)

    @app_commands.command(name="sora", description="Make a video")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What should happen in the video",
        model="Which model makes it (prices per second are shown)",
        duration="Length in seconds (cost grows with it)",
        resolution="Higher resolutions need a model that offers them",
        aspect="Landscape or portrait",
        image="Optional image to animate (image-to-video)",
    )
    async def sora(self, interaction: discord.Interaction, prompt: str,
                   model: str = validation.DEFAULT_MODEL, duration: int = validation.DEFAULT_DURATION,
                   resolution: str = validation.DEFAULT_RESOLUTION, aspect: str | None = None,
                   image: discord.Attachment | None = None) -> None:
        if image is not None and not is_image(image.content_type, image.filename):
            await interaction.response.send_message(
                "The attachment must be a PNG, JPEG or WebP image.", ephemeral=True)
            return
        request = VideoRequest(prompt=prompt, model=model, duration=duration, resolution=resolution,
                               aspect=aspect if aspect or image else validation.DEFAULT_ASPECT,
                               image_url=image.url if image else None)
        await self.jobs.from_interaction(interaction, request)

    @sora.autocomplete("model")
    async def _models(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        prices = self.chat.settings.prices
        choices = []
        for m in validation.MODELS:
            resolution = validation.RESOLUTIONS[m][0]
            rate = prices.get((m, resolution))
            label = f"{m} (${rate:.2f}/s at {resolution})" if rate is not None else m
            if current.lower() in m:
                choices.append(Choice(name=label, value=m))
        return choices[:25]

    @sora.autocomplete("duration")
    async def _durations(self, interaction: discord.Interaction, current: str) -> list[Choice[int]]:
        return [Choice(name=f"{d} seconds", value=d) for d in validation.DURATIONS
                if str(d).startswith(current.strip())][:25]

    @sora.autocomplete("resolution")
    async def _resolutions(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=r, value=r) for r in validation.ALL_RESOLUTIONS if current.lower() in r]

    @sora.autocomplete("aspect")
    async def _aspects(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=f"{a} {name}", value=a) for a, name in validation.ASPECT_NAMES.items()
                if current.lower() in f"{a} {name}"]

    @app_commands.command(name="sora-usage", description="Your spend and what is left")
    @app_commands.guild_only()
    async def usage(self, interaction: discord.Interaction) -> None:
        who = requester(interaction.guild_id, interaction.user)
        await interaction.response.send_message(self.chat.usage_text(who), ephemeral=True)

    @app_commands.command(name="sora-jobs", description="Your recent and running jobs")
    @app_commands.guild_only()
    async def jobs_(self, interaction: discord.Interaction) -> None:
        who = requester(interaction.guild_id, interaction.user)
        await interaction.response.send_message(self.chat.jobs_text(who, MARKUP), ephemeral=True)

    async def _animate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        image = first_image(message.attachments)
        if image is None:
            await interaction.response.send_message(NO_IMAGE, ephemeral=True)
            return
        await self.jobs.from_interaction(interaction, self.chat.image_request(message.content, image.url))
