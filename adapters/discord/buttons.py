"""Buttons under a result: re-roll (same settings) and pro (sora-2-pro), charged to whoever
presses. Dynamic items, so they keep working after a restart."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.engine import JobEngine
from bot.models import Job, VideoRequest

TEMPLATE = r"sora:(?P<action>reroll|pro):(?P<job_id>job_[0-9a-f]+)"
Start = Callable[[discord.Interaction, VideoRequest], Awaitable[None]]
PRO = "sora-2-pro"


def result_buttons(engine: JobEngine, start: Start
                   ) -> tuple[type[discord.ui.DynamicItem[Any]], Callable[[Job], discord.ui.View]]:
    """The button class to register (bound to what a press needs: the job's settings and how
    to start a job), and the view of buttons under a result."""

    class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
        def __init__(self, job_id: str, action: str) -> None:
            label, emoji = ("Re-roll", "🎲") if action == "reroll" else ("Make it pro", "✨")
            super().__init__(discord.ui.Button(
                label=label, emoji=emoji, style=discord.ButtonStyle.secondary,
                custom_id=f"sora:{action}:{job_id}"))
            self.job_id, self.action = job_id, action

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                                 match: re.Match[str], /) -> ResultButton:
            return cls(match["job_id"], match["action"])

        async def callback(self, interaction: discord.Interaction) -> None:
            job = await engine.job(self.job_id)
            if job is None:
                await interaction.response.send_message(
                    "That video's settings are no longer known.", ephemeral=True)
                return
            request = job.request
            if self.action == "pro":
                request = dataclasses.replace(request, model=PRO)
            await start(interaction, request)

    def view_for(job: Job) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        view.add_item(ResultButton(job.id, "reroll"))
        if job.request.model == "sora-2" and PRO in engine.settings.catalogue.models():
            view.add_item(ResultButton(job.id, "pro"))
        return view

    return ResultButton, view_for
