"""The discord.py client: commands, the reaction listener, resume on connect."""
from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord import commands, images, quota
from adapters.discord.buttons import ResultButton
from adapters.discord.status import StatusMessage
from bot.engine import JobEngine
from bot.errors import SoraError
from bot.models import Job
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Send REST and gateway traffic to a proxy (or a test fake) when settings say so.
    discord.py reads these class attributes for every request, so this is process-wide."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class SoraBot(discord.Client):
    def __init__(self, runtime: Runtime, *, message_content: bool = True, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(intents=intents, **options)
        self.runtime = runtime
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self.on_command_error  # type: ignore[method-assign]
        self._resumed = False

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def engine(self) -> JobEngine:
        return self.runtime.engine

    def events_for(self, job: Job) -> StatusMessage:
        """Rebuild a job's JobEvents from its stored origin (after a restart)."""
        return StatusMessage(self, dict(job.origin))

    async def setup_hook(self) -> None:
        for command in commands.build(self.settings):
            self.tree.add_command(command)
        self.tree.add_command(quota.build())
        self.tree.add_command(images.context_menu())
        self.add_dynamic_items(ResultButton)
        self.engine.register("discord", self.events_for)
        await self._sync()

    async def _sync(self) -> None:
        try:
            guild_id = self.settings.discord_guild_id
            if guild_id:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
            else:
                synced = await self.tree.sync()
            log.info("Synced %d Discord commands%s", len(synced),
                     f" to guild {guild_id}" if guild_id else " globally")
        except discord.HTTPException:
            log.exception("Syncing Discord commands failed; existing commands stay as they were")

    async def on_ready(self) -> None:
        log.info("Connected to Discord as %s in %d servers", self.user, len(self.guilds))
        if not self._resumed:
            self._resumed = True
            resumed = await self.engine.resume(["discord"])
            if resumed:
                log.info("Resumed %d unfinished Discord jobs", len(resumed))

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await images.on_reaction(self, event)

    async def on_command_error(self, interaction: discord.Interaction,
                               error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.CheckFailure):
            text = "You cannot use this command here."
        elif isinstance(original, SoraError):
            text = original.user_message
        else:
            log.error("Command %s failed", getattr(interaction.command, "name", "?"), exc_info=error)
            text = "Something went wrong; the error has been logged for the bot's admin."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("Could not tell the user about a failed command", exc_info=True)
