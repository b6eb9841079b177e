"""/sora-quota set|clear|show: the server's budgets, and /sora-admin: a sign-in link to the
server's dashboard; both for members with Manage Server."""
from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.checks import server_admin
from adapters.discord.markup import MARKUP
from bot.budgets import KEEP
from bot.chat import ChatJobs
from bot.models import to_micros, usd

Dollars = app_commands.Range[float, 0, 1_000_000]
Choice = app_commands.Choice


def _who(member: discord.Member | discord.User | None) -> str:
    return f"<@{member.id}>" if member else "the whole server"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Quota(commands.GroupCog, group_name="sora-quota",
            group_description="Daily and monthly budgets for this server"):
    def __init__(self, chat: ChatJobs) -> None:
        self.chat = chat
        super().__init__()

    @app_commands.command(name="set", description="Set daily and/or monthly budgets in dollars")
    @app_commands.describe(member="A member (leave out for the whole server)",
                           daily="Dollars per day, e.g. 2.50", monthly="Dollars per month, e.g. 40")
    @server_admin
    async def set_(self, interaction: discord.Interaction, member: discord.Member | None = None,
                   daily: Dollars | None = None, monthly: Dollars | None = None) -> None:
        await self.chat.budgets.set(str(interaction.guild_id), str(member.id) if member else None,
                                    daily=KEEP if daily is None else daily,
                                    monthly=KEEP if monthly is None else monthly,
                                    by=str(interaction.user.id), via="discord")
        parts = [f"{name} {usd(to_micros(value))}" for name, value in
                 (("daily", daily), ("monthly", monthly)) if value is not None]
        await interaction.response.send_message(
            f"Budget for {_who(member)} set: {', '.join(parts)}.", ephemeral=True)

    @app_commands.command(name="clear", description="Remove budget overrides (defaults apply again)")
    @app_commands.describe(member="A member (leave out for the whole server)")
    @server_admin
    async def clear(self, interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        removed = await self.chat.budgets.clear(str(interaction.guild_id),
                                                str(member.id) if member else None,
                                                by=str(interaction.user.id), via="discord")
        text = "cleared; the defaults apply again" if removed else "had no override; nothing changed"
        await interaction.response.send_message(f"Budget for {_who(member)} {text}.", ephemeral=True)

    @app_commands.command(name="settle", description="Release or charge a job whose outcome is unknown")
    @app_commands.describe(job="The job id, e.g. job_3f2a9c1b7d10",
                           action="Did the video service make it?")
    @app_commands.choices(action=[Choice(name="release: it was not made (free the held cost)", value="release"),
                                  Choice(name="charge: it was made (spend the held cost)", value="charge")])
    @server_admin
    async def settle(self, interaction: discord.Interaction, job: str, action: str) -> None:
        text = await self.chat.settle_unknown(str(interaction.guild_id), job, charge=action == "charge")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="show", description="Show this server's budgets")
    @server_admin
    async def show(self, interaction: discord.Interaction) -> None:
        text = await self.chat.budgets_text(str(interaction.guild_id), MARKUP, team_word="server")
        await interaction.response.send_message(text, ephemeral=True)


class AdminLink(commands.Cog):
    def __init__(self, chat: ChatJobs) -> None:
        self.chat = chat

    @app_commands.command(name="sora-admin", description="A private sign-in link to this server's dashboard")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @server_admin
    async def sora_admin(self, interaction: discord.Interaction) -> None:
        url = self.chat.admin_link(str(interaction.guild_id), by=str(interaction.user.id))
        ttl = self.chat.settings.admin_link_ttl
        await interaction.response.send_message(
            f"Your dashboard sign-in link (works once, for {ttl / 60:g} minutes; do not share it):\n{url}",
            ephemeral=True, suppress_embeds=True)
