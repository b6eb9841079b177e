"""How the core's texts look on Discord."""
from __future__ import annotations

import datetime as dt

import discord

#: Every message the bot sends mentions nobody unless it says so.
NO_MENTIONS = discord.AllowedMentions.none()


class DiscordMarkup:
    def mention(self, user: str) -> str:
        return f"<@{user}>"

    def escape(self, text: str) -> str:
        # Markdown escaped; mentions would not ping (NO_MENTIONS), but must not look like one.
        return discord.utils.escape_mentions(discord.utils.escape_markdown(text))

    def code(self, text: str) -> str:
        return f"`{text}`"

    def when(self, moment: dt.datetime) -> str:
        return discord.utils.format_dt(moment, "R")


MARKUP = DiscordMarkup()
