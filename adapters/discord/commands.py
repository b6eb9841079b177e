"""/sora, /sora-usage and /sora-jobs."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from adapters.discord.jobs import requester, start_from_interaction
from bot.models import VideoRequest, usd
from bot.settings import Settings
from bot.validation import DURATIONS

if TYPE_CHECKING:
    from adapters.discord.client import SoraBot

log = logging.getLogger(__name__)

Choice = app_commands.Choice
STATUS_ICONS = {"delivered": "✅", "failed": "❌", "downloaded": "⬇️", "submitted": "🎞️",
                "submitting": "📤", "waiting": "⏳", "reserved": "⏳"}


def _rate(settings: Settings, model: str, resolution: str = "720p") -> str:
    rate = settings.prices.get((model, resolution))
    return f"${rate:.2f}/s" if rate is not None else "unpriced"


def build(settings: Settings) -> list[app_commands.Command]:  # type: ignore[type-arg]
    """The commands, with prices in the choice labels taken from settings."""

    @app_commands.command(name="sora", description="Make a video with Sora 2")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What should happen in the video",
        model="sora-2 is faster and cheaper; sora-2-pro looks better and allows 1024p/1080p",
        duration="Length in seconds (cost grows with it)",
        resolution="720p works on both models; 1024p and 1080p need sora-2-pro",
        aspect="Landscape or portrait",
        image="Optional image to animate (image-to-video)",
    )
    @app_commands.choices(
        model=[Choice(name=f"sora-2 (standard, {_rate(settings, 'sora-2')} at 720p)", value="sora-2"),
               Choice(name=f"sora-2-pro (higher quality, {_rate(settings, 'sora-2-pro')} at 720p)",
                      value="sora-2-pro")],
        duration=[Choice(name=f"{d} seconds", value=d) for d in DURATIONS],
        resolution=[Choice(name="720p (both models)", value="720p"),
                    Choice(name=f"1024p (sora-2-pro only, {_rate(settings, 'sora-2-pro', '1024p')})",
                           value="1024p"),
                    Choice(name=f"1080p (sora-2-pro only, {_rate(settings, 'sora-2-pro', '1080p')})",
                           value="1080p")],
        aspect=[Choice(name="16:9 landscape", value="16:9"), Choice(name="9:16 portrait", value="9:16")],
    )
    async def sora(interaction: discord.Interaction, prompt: str, model: str = "sora-2",
                   duration: int = 4, resolution: str = "720p", aspect: str | None = None,
                   image: discord.Attachment | None = None) -> None:
        if image is not None and not (image.content_type or "").startswith("image/"):
            await interaction.response.send_message("The attachment must be an image (PNG, JPEG or WebP).",
                                                    ephemeral=True)
            return
        request = VideoRequest(prompt=prompt, model=model, duration=duration, resolution=resolution,
                               aspect=aspect if aspect or image else "16:9",
                               image_url=image.url if image else None)
        await start_from_interaction(interaction, request)

    @app_commands.command(name="sora-usage", description="Your Sora spend and what is left")
    @app_commands.guild_only()
    async def usage(interaction: discord.Interaction) -> None:
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        who = requester(interaction.guild_id, interaction.user)
        status = bot.runtime.budgets.status(who.team, who.user)
        await interaction.response.send_message("\n".join(status.lines()), ephemeral=True)

    @app_commands.command(name="sora-jobs", description="Your recent and running Sora jobs")
    @app_commands.guild_only()
    async def jobs(interaction: discord.Interaction) -> None:
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        who = requester(interaction.guild_id, interaction.user)
        rows = bot.engine.jobs(team=who.team, user=who.user, limit=10)
        if not rows:
            await interaction.response.send_message("You have no Sora jobs yet. Try /sora.", ephemeral=True)
            return
        lines = []
        for job in rows:
            prompt = job.request.prompt if len(job.request.prompt) <= 60 else job.request.prompt[:59] + "…"
            when = discord.utils.format_dt(job.created_at, "R")
            lines.append(f"{STATUS_ICONS.get(job.status, '•')} `{job.id}` {job.status} · "
                         f"{job.request.model} {job.request.duration} s · {usd(job.cost_micros)} · "
                         f"{when} · {prompt}")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    return [sora, usage, jobs]
