"""Who pays for what a Discord member does."""
from __future__ import annotations

import discord

from bot.models import Requester


def requester(guild_id: int | None, user: discord.abc.User) -> Requester:
    return Requester(platform="discord", team=str(guild_id or f"dm-{user.id}"), user=str(user.id),
                     name=user.display_name)
