"""The discord.py bot: one cog per feature, each handed what it needs; one error policy."""
from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from adapters.discord.admin import AdminLink, Quota
from adapters.discord.checks import NOT_ALLOWED
from adapters.discord.commands import Video
from adapters.discord.jobs import DiscordJobs
from adapters.discord.markup import MARKUP
from adapters.discord.reactions import Reactions
from bot.alerts import Alert
from bot.chat import ChatJobs
from bot.errors import SoraError
from bot.settings import Settings

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong; the error has been logged for the bot's admin."


def point_at(settings: Settings) -> None:
    """Send REST and gateway traffic to a proxy (or a test fake) when settings say so.
    discord.py reads these class attributes for every request, so this is process-wide."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def shard_options(settings: Settings) -> dict[str, Any]:
    """discord.py's shard options from DISCORD_SHARD_IDS/COUNT, so processes sharing one
    token split the gateway: one id is a plain client's `shard_id`; several go to
    AutoShardedBot's `shard_ids` (no ids with a count: this process runs them all)."""
    count, ids = settings.discord_shard_count, settings.discord_shard_ids
    if count is None:
        return {}
    if ids is not None and len(ids) == 1:
        return {"shard_id": ids[0], "shard_count": count}
    return {"shard_ids": list(ids) if ids is not None else None, "shard_count": count}


class SoraTree(app_commands.CommandTree):
    """Every command's refusal or failure, answered privately in one place."""

    async def on_error(self, interaction: discord.Interaction,
                       error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.MissingPermissions):
            text = NOT_ALLOWED
        elif isinstance(error, app_commands.CheckFailure):
            text = "You cannot use this command here."
        elif isinstance(original, SoraError):
            text = original.user_message
        else:
            log.error("Command %s failed", getattr(interaction.command, "name", "?"), exc_info=error)
            text = GENERIC_ERROR
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("Could not tell the user about a failed command", exc_info=True)


class SoraBot(commands.Bot):
    def __init__(self, chat: ChatJobs, *, message_content: bool = True, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        # Slash commands only: the prefix is a mention, so no message text is ever parsed.
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         tree_cls=SoraTree, **options)
        self.chat = chat
        self.settings = chat.settings
        self.jobs = DiscordJobs(self, chat)
        self._resumed = False

    async def setup_hook(self) -> None:
        await self.add_cog(Video(self.jobs))
        await self.add_cog(Reactions(self.jobs))
        await self.add_cog(Quota(self.chat))
        await self.add_cog(AdminLink(self.chat))
        self.chat.budgets.alerts.register("discord", self.post_alert)
        await self._sync()

    async def post_alert(self, channel_id: str, alert: Alert) -> None:
        """A budget alert, in the admin channel (SORA_ALERT_CHANNEL_DISCORD), only when that
        channel is in the alert's server: one server's spending is no other server's news."""
        channel = self.get_channel(int(channel_id))
        guild = getattr(channel, "guild", None)
        if not isinstance(channel, discord.abc.Messageable) or guild is None \
                or str(guild.id) != alert.team:
            log.warning("Budget alert for server %s not posted: SORA_ALERT_CHANNEL_DISCORD is not "
                        "a channel of that server. %s", alert.team, alert.text(MARKUP))
            return
        await channel.send(alert.text(MARKUP))

    async def close(self) -> None:
        self.chat.budgets.alerts.unregister("discord")
        await super().close()

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
        if not self._resumed:  # on_ready fires again after every reconnect
            self._resumed = True
            await self.chat.attach("discord", self.jobs.events_for)


class ShardedSoraBot(SoraBot, commands.AutoShardedBot):
    """The same bot running several gateway shards in one process (DISCORD_SHARD_IDS)."""
