"""/sora, /sora-usage, /sora-jobs, /sora-show and the message menu "Animate with Sora"."""
from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.jobs import DiscordJobs, requester
from adapters.discord.markup import MARKUP
from bot.catalogue import ModelSpec, aspect_name
from bot.grammar import fill
from bot.images import NO_IMAGE, is_image

log = logging.getLogger(__name__)

Choice = app_commands.Choice


def _label(text: str) -> str:
    """Discord caps a choice's name at 100 characters."""
    return text if len(text) <= 100 else text[:99] + "…"


def first_image(attachments: list[discord.Attachment]) -> discord.Attachment | None:
    return next((a for a in attachments if is_image(a.content_type, a.filename)), None)


class Video(commands.Cog):
    """Making videos. The option values come from the core's vocabulary."""

    def __init__(self, jobs: DiscordJobs) -> None:
        self.jobs = jobs
        self.chat = jobs.chat
        self.catalogue = jobs.chat.settings.catalogue
        self.animate = app_commands.ContextMenu(name="Animate with Sora", callback=self._animate)
        self.animate.guild_only = True

    async def cog_load(self) -> None:
        # Context menus cannot be methods of a cog; this one is added and removed with it.
        self.jobs.client.add_dynamic_items(self.jobs.buttons, self.jobs.offer_buttons)
        self.jobs.client.tree.add_command(self.animate)

    async def cog_unload(self) -> None:
        self.jobs.client.tree.remove_command(self.animate.name, type=self.animate.type)

    @app_commands.command(name="sora", description="Make a video")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What should happen in the video",
        model="Which model makes it (prices per second are shown)",
        duration="Length in seconds (cost grows with it); default: the model's",
        resolution="Resolutions the model offers; default: the model's",
        aspect="Landscape, portrait, ...; default: the model's (an image's own with an image)",
        image="Optional image to animate (image-to-video)",
    )
    async def sora(self, interaction: discord.Interaction, prompt: str, model: str | None = None,
                   duration: int | None = None, resolution: str | None = None,
                   aspect: str | None = None, image: discord.Attachment | None = None) -> None:
        if image is not None and not is_image(image.content_type, image.filename):
            await interaction.response.send_message(
                "The attachment must be a PNG, JPEG or WebP image.", ephemeral=True)
            return
        request = fill(self.catalogue, prompt, model, duration, resolution, aspect,
                       image.url if image else None)
        await self.jobs.from_interaction(interaction, request)

    # Choices come from the catalogue as the member types, so SORA_MODELS_FILE's models show
    # up without a code change, and each option lists what the chosen model offers.

    def _chosen(self, interaction: discord.Interaction) -> ModelSpec | None:
        name = getattr(interaction.namespace, "model", None)
        resolved = self.catalogue.resolve(name) if name else None
        return self.catalogue.model(resolved) if resolved else None

    @sora.autocomplete("model")
    async def _models(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=_label(self.catalogue.model(m).summary()), value=m)
                for m in self.catalogue.matching(current)]

    @sora.autocomplete("duration")
    async def _durations(self, interaction: discord.Interaction, current: str) -> list[Choice[int]]:
        spec = self._chosen(interaction)
        offered = spec.durations if spec else self.catalogue.durations()
        return [Choice(name=f"{d} seconds", value=d) for d in offered
                if str(d).startswith(current.strip())][:25]

    @sora.autocomplete("resolution")
    async def _resolutions(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        spec = self._chosen(interaction)
        if spec is None:
            return [Choice(name=r, value=r) for r in self.catalogue.resolutions() if current.lower() in r][:25]
        return [Choice(name=f"{r} (${p:.2f}/s)", value=r) for r, p in spec.prices.items()
                if current.lower() in r][:25]

    @sora.autocomplete("aspect")
    async def _aspects(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        spec = self._chosen(interaction)
        offered = spec.aspects if spec else self.catalogue.aspects()
        labels = [(a, f"{a} {aspect_name(a) or ''}".strip()) for a in offered]
        return [Choice(name=label, value=a) for a, label in labels if current.lower() in label][:25]

    @app_commands.command(name="sora-usage", description="Your spend and what is left")
    @app_commands.guild_only()
    async def usage(self, interaction: discord.Interaction) -> None:
        who = requester(interaction.guild_id, interaction.user)
        await interaction.response.send_message(await self.chat.usage_text(who), ephemeral=True)

    @app_commands.command(name="sora-jobs", description="Your recent and running jobs")
    @app_commands.guild_only()
    async def jobs_(self, interaction: discord.Interaction) -> None:
        who = requester(interaction.guild_id, interaction.user)
        await interaction.response.send_message(await self.chat.jobs_text(who, MARKUP), ephemeral=True)

    @app_commands.command(name="sora-show", description="Post a video from the library again")
    @app_commands.guild_only()
    @app_commands.describe(job="The job id, e.g. job_1a2b3c4d5e6f (/sora-jobs lists yours)")
    async def show(self, interaction: discord.Interaction, job: str) -> None:
        await self.jobs.creative.show(interaction, job)

    async def _animate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        image = first_image(message.attachments)
        if image is None:
            await interaction.response.send_message(NO_IMAGE, ephemeral=True)
            return
        await self.jobs.from_interaction(interaction, self.chat.image_request(message.content, image.url))
