"""The Discord adapter: `serve(runtime)` runs the bot until cancelled."""
from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord.app import ShardedSoraBot, SoraBot, point_at, shard_options
from bot.errors import ConfigError
from bot.runtime import Runtime

log = logging.getLogger(__name__)

INTENT_HELP = (
    "Discord refused the Message Content intent. Reactions cannot see images without it; "
    "running without it (the “Animate with Sora” context menu still works). Enable it under "
    "Developer Portal > your app > Bot > Privileged Gateway Intents > Message Content."
)


async def serve(runtime: Runtime, **client_options: Any) -> None:
    """Run the Discord bot until cancelled. discord.py opens its own HTTP session for Discord;
    the runtime's session stays for our own HTTP. `client_options` go to discord.Client
    (tests pass guild_ready_timeout)."""
    settings = runtime.settings
    if not settings.discord_token:
        raise ConfigError("DISCORD_TOKEN is not set.")
    point_at(settings)
    message_content = True
    shards = shard_options(settings)
    bot_class = ShardedSoraBot if "shard_ids" in shards else SoraBot
    if shards:
        log.info("Discord shards %s of %d", shards.get("shard_id", shards.get("shard_ids")) or "all",
                 shards["shard_count"])
    while True:
        bot = bot_class(runtime.chat, message_content=message_content, **shards, **client_options)
        try:
            async with bot:
                await bot.start(settings.discord_token)
            return
        except discord.PrivilegedIntentsRequired:
            if not message_content:
                raise
            log.warning(INTENT_HELP)
            message_content = False
        except discord.LoginFailure:
            raise ConfigError("Discord rejected DISCORD_TOKEN. Check the bot token in the Developer Portal.") from None


__all__ = ["SoraBot", "serve"]
