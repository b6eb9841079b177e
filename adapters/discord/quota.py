"""/sora-quota set|clear|show: server budgets, for members with Manage Server only."""
from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import InvalidRequest
from bot.models import usd
from bot.budgets import KEEP

if TYPE_CHECKING:
    from adapters.discord.client import SoraBot

NOT_ALLOWED = "Only members with the Manage Server permission can change Sora budgets."
Dollars = app_commands.Range[float, 0, 1_000_000]


def _who(member: discord.Member | discord.User | None) -> str:
    return f"<@{member.id}>" if member else "the whole server"


def _cap(micros: int | None) -> str:
    return "no limit" if micros is None else usd(micros)


def _allowed(interaction: discord.Interaction) -> bool:
    # default_permissions hides the command; this check holds even if an admin re-grants it.
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def build() -> app_commands.Group:
    group = app_commands.Group(
        name="sora-quota", description="Daily and monthly Sora budgets for this server",
        default_permissions=discord.Permissions(manage_guild=True), guild_only=True)

    @group.command(name="set", description="Set daily and/or monthly budgets in dollars")
    @app_commands.describe(member="A member (leave out for the whole server)",
                           daily="Dollars per day, e.g. 2.50", monthly="Dollars per month, e.g. 40")
    async def set_(interaction: discord.Interaction, member: discord.Member | None = None,
                   daily: Dollars | None = None, monthly: Dollars | None = None) -> None:
        if not _allowed(interaction):
            await interaction.response.send_message(NOT_ALLOWED, ephemeral=True)
            return
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        try:
            bot.runtime.budgets.set(str(interaction.guild_id), str(member.id) if member else None,
                                    daily=KEEP if daily is None else daily,
                                    monthly=KEEP if monthly is None else monthly)
        except InvalidRequest as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        parts = [f"daily {usd(round(daily * 1e6))}" if daily is not None else "",
                 f"monthly {usd(round(monthly * 1e6))}" if monthly is not None else ""]
        await interaction.response.send_message(
            f"Budget for {_who(member)} set: {', '.join(p for p in parts if p)}.", ephemeral=True)

    @group.command(name="clear", description="Remove budget overrides (defaults apply again)")
    @app_commands.describe(member="A member (leave out for the whole server)")
    async def clear(interaction: discord.Interaction, member: discord.Member | None = None) -> None:
        if not _allowed(interaction):
            await interaction.response.send_message(NOT_ALLOWED, ephemeral=True)
            return
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        removed = bot.runtime.budgets.clear(str(interaction.guild_id), str(member.id) if member else None)
        text = "cleared; the defaults apply again" if removed else "had no override; nothing changed"
        await interaction.response.send_message(f"Budget for {_who(member)} {text}.", ephemeral=True)

    @group.command(name="show", description="Show this server's budgets")
    async def show(interaction: discord.Interaction) -> None:
        if not _allowed(interaction):
            await interaction.response.send_message(NOT_ALLOWED, ephemeral=True)
            return
        bot: SoraBot = interaction.client  # type: ignore[assignment]
        budgets = bot.runtime.budgets
        d = budgets.defaults
        lines = [f"Defaults: each member {_cap(d.user_daily)}/day, {_cap(d.user_monthly)}/month; "
                 f"server {_cap(d.team_daily)}/day, {_cap(d.team_monthly)}/month."]
        for row in budgets.quotas(str(interaction.guild_id)):
            who = f"<@{row['user']}>" if row["user"] else "Server"
            lines.append(f"{who}: {_cap(row['daily_micros'])}/day, {_cap(row['monthly_micros'])}/month")
        if len(lines) == 1:
            lines.append("No overrides are set.")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    return group
