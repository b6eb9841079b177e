"""Buttons under a result: re-roll (same settings), pro (sora-2-pro), edit and re-run,
continue from the last frame, stitch (on the last clip of a sequence), delete; and Confirm /
Cancel under an offer. Dynamic items, so they keep working after a restart."""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.engine import JobEngine
from bot.models import Job

TEMPLATE = (r"sora:(?P<action>reroll|pro|edit|continue|remix|extend|stitch|delete):"
            r"(?P<job_id>job_[0-9a-f]+)")
OFFER_TEMPLATE = r"sora:offer:(?P<answer>confirm|cancel):(?P<offer_id>[A-Za-z0-9_-]{16})"
#: A press: (interaction, action, job id); the handler answers the interaction.
Press = Callable[[discord.Interaction, str, str], Awaitable[None]]
Answer = Callable[[discord.Interaction, str, str], Awaitable[None]]
PRO = "sora-2-pro"

LOOKS: dict[str, tuple[str, str, discord.ButtonStyle]] = {
    "reroll": ("Re-roll", "🎲", discord.ButtonStyle.secondary),
    "pro": ("Make it pro", "✨", discord.ButtonStyle.secondary),
    "edit": ("Edit", "🖋️", discord.ButtonStyle.secondary),
    "continue": ("Continue", "➡️", discord.ButtonStyle.secondary),
    "remix": ("Remix", "🔀", discord.ButtonStyle.secondary),
    "extend": ("Extend", "⏩", discord.ButtonStyle.secondary),
    "stitch": ("Stitch", "🧵", discord.ButtonStyle.primary),
    "delete": ("", "🗑️", discord.ButtonStyle.danger),
}


def result_buttons(engine: JobEngine, press: Press
                   ) -> tuple[type[discord.ui.DynamicItem[Any]], Callable[[Job], discord.ui.View]]:
    """The button class to register (bound to what a press does), and the view of buttons
    under a result."""

    class ResultButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
        def __init__(self, job_id: str, action: str) -> None:
            label, emoji, style = LOOKS[action]
            super().__init__(discord.ui.Button(label=label or None, emoji=emoji, style=style,
                                               custom_id=f"sora:{action}:{job_id}"))
            self.job_id, self.action = job_id, action

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                                 match: re.Match[str], /) -> ResultButton:
            return cls(match["job_id"], match["action"])

        async def callback(self, interaction: discord.Interaction) -> None:
            await press(interaction, self.action, self.job_id)

    def view_for(job: Job) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        view.add_item(ResultButton(job.id, "reroll"))
        if job.request.model == "sora-2" and PRO in engine.settings.catalogue.models():
            view.add_item(ResultButton(job.id, "pro"))
        view.add_item(ResultButton(job.id, "edit"))
        if can_continue(engine, job):
            view.add_item(ResultButton(job.id, "continue"))
        for action in provider_offers(engine, job):  # the provider's own remix / extend
            view.add_item(ResultButton(job.id, action))
        if job.sequence:  # a continued clip: the newest of its sequence when posted
            view.add_item(ResultButton(job.id, "stitch"))
        view.add_item(ResultButton(job.id, "delete"))
        return view

    return ResultButton, view_for


def can_continue(engine: JobEngine, job: Job) -> bool:
    """Whether the job's model takes a start image (a model gone from the catalogue: no)."""
    try:
        return bool(engine.settings.catalogue.model(job.request.model).images)
    except KeyError:
        return False


def provider_offers(engine: JobEngine, job: Job) -> list[str]:
    """"remix" / "extend" where the job's model offers them and the task is known."""
    spec = engine.settings.catalogue.specs.get(
        engine.settings.catalogue.resolve(job.request.model) or "")
    if spec is None or not job.task_id:
        return []
    return [action for action, offered in (("remix", spec.remix), ("extend", spec.extend)) if offered]


def offer_buttons(answer: Answer
                  ) -> tuple[type[discord.ui.DynamicItem[Any]], Callable[[str], discord.ui.View]]:
    """Confirm / Cancel under an offer to make an expensive video."""

    class OfferButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=OFFER_TEMPLATE):
        def __init__(self, offer_id: str, answer_: str) -> None:
            confirm = answer_ == "confirm"
            super().__init__(discord.ui.Button(
                label="Confirm" if confirm else "Cancel",
                style=discord.ButtonStyle.success if confirm else discord.ButtonStyle.secondary,
                custom_id=f"sora:offer:{answer_}:{offer_id}"))
            self.offer_id, self.answer = offer_id, answer_

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                                 match: re.Match[str], /) -> OfferButton:
            return cls(match["offer_id"], match["answer"])

        async def callback(self, interaction: discord.Interaction) -> None:
            await answer(interaction, self.answer, self.offer_id)

    def view_for(offer_id: str) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        view.add_item(OfferButton(offer_id, "confirm"))
        view.add_item(OfferButton(offer_id, "cancel"))
        return view

    return OfferButton, view_for

