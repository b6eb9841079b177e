"""The creative loop on Discord: what a press of a result's buttons does (re-roll, pro, edit,
continue, stitch, delete), the form that edits a request, Confirm / Cancel under an offer,
and re-posting a stored video. The behaviour is the core's (`bot.library`, `ChatJobs`); this
is the Discord wording and wiring."""
from __future__ import annotations

import dataclasses
import io
import logging
import secrets
from pathlib import Path
from typing import Any, Protocol

import discord
from discord.ext import commands

from adapters.discord.markup import MARKUP, NO_MENTIONS
from adapters.discord.status import DEFAULT_LIMIT, RESULT, too_large_text
from adapters.discord.who import requester
from bot import library, texts
from bot.chat import CannotPost, ChatJobs
from bot.errors import SoraError
from bot.fitting import CannotFit
from bot.grammar import fill
from bot.models import Job, Requester, VideoRequest

log = logging.getLogger(__name__)

PRO = "sora-2-pro"
NOT_YOURS = "Only the member who asked for this video, or a server admin, can delete it."
THREAD_EXISTS = 160004  # Discord: "A thread has already been created for this message"


TITLES = {"edit": "Edit and run again", "continue": "Continue from the last frame",
          "remix": "Remix with a new prompt", "extend": "Extend the video"}


class Starter(Protocol):
    """What starting a job needs from `DiscordJobs` (passed in, to keep imports one way)."""

    def view_for(self, job: Job) -> discord.ui.View: ...

    async def from_interaction(self, interaction: discord.Interaction, request: VideoRequest, *,
                               parent: str | None = None, continue_from: str | None = None) -> None: ...

    async def launch(self, interaction: discord.Interaction, request: VideoRequest,
                     who: Requester, context: dict[str, Any]) -> None: ...


class JobForm(discord.ui.Modal):
    """The prompt and settings of a job, filled in, to edit and run again (or to continue
    from its last frame). The member's own values go through the same checks as /sora."""

    def __init__(self, job: Job, mode: str, creative: Creative) -> None:
        title = TITLES[mode]
        # A modal is found again by its custom_id alone: make each one unique.
        super().__init__(title=title, custom_id=f"sora:form:{mode}:{job.id}:{secrets.token_hex(4)}",
                         timeout=900)
        self.job, self.mode, self.creative = job, mode, creative
        q = job.request
        prompt = q.prompt if mode in ("edit", "remix") else ""
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Prompt", style=discord.TextStyle.paragraph, default=prompt or None,
            max_length=min(4000, creative.chat.settings.max_prompt_chars), custom_id="prompt",
            placeholder="What happens next" if mode in ("continue", "extend") else None)
        self.model: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Model", default=q.model, max_length=100, custom_id="model")
        self.duration: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Duration (seconds)", default=str(q.duration), max_length=4, custom_id="duration")
        self.resolution: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Resolution", default=q.resolution, max_length=20, custom_id="resolution")
        self.aspect: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Aspect", default=q.aspect or "", required=False, max_length=20, custom_id="aspect")
        # Remix keeps the video's settings; extend chooses only how much longer.
        fields = {"remix": (self.prompt,), "extend": (self.prompt, self.duration)}.get(
            mode, (self.prompt, self.model, self.duration, self.resolution, self.aspect))
        for item in fields:
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        duration = self.duration.value.strip()
        if not duration.isdigit():
            await interaction.response.send_message(
                f"The duration must be a whole number of seconds, not {duration!r}.", ephemeral=True)
            return
        if self.mode in ("remix", "extend"):  # the provider's own, from the finished task
            request = dataclasses.replace(
                self.job.request, prompt=self.prompt.value, image_url=None,
                duration=int(duration) if self.mode == "extend" else self.job.request.duration,
                remix_of=self.job.task_id if self.mode == "remix" else None,
                extend_of=self.job.task_id if self.mode == "extend" else None)
            await self.creative.starter.from_interaction(interaction, request, parent=self.job.id)
            return
        keep_image = self.job.request.image_url if self.mode == "edit" else None
        request = fill(self.creative.chat.settings.catalogue, self.prompt.value, self.model.value.strip(),
                       int(duration), self.resolution.value.strip() or None,
                       self.aspect.value.strip() or None, keep_image)
        await self.creative.starter.from_interaction(
            interaction, request, parent=self.job.id,
            continue_from=self.job.id if self.mode == "continue" else None)


class Creative:
    def __init__(self, client: commands.Bot, chat: ChatJobs, starter: Starter) -> None:
        self.client = client
        self.chat = chat
        self.store = chat.engine.store
        self.starter = starter

    # -- result buttons --------------------------------------------------------------------

    async def press(self, interaction: discord.Interaction, action: str, job_id: str) -> None:
        job = await self.chat.engine.job(job_id)
        if job is None:
            await interaction.response.send_message("That video's settings are no longer known.",
                                                    ephemeral=True)
            return
        if action == "reroll":
            await self.starter.from_interaction(interaction, job.request, parent=job.id)
        elif action == "pro":
            await self.starter.from_interaction(interaction, dataclasses.replace(job.request, model=PRO),
                                                parent=job.id)
        elif action in ("edit", "continue", "remix", "extend"):
            await interaction.response.send_modal(JobForm(job, action, self))
        elif action == "stitch":
            await self.stitch(interaction, job)
        elif action == "delete":
            await self.delete(interaction, job)

    async def delete(self, interaction: discord.Interaction, job: Job) -> None:
        """Remove a result message: its requester may, and so may a server admin."""
        perms = interaction.permissions
        if str(interaction.user.id) != job.requester.user and not perms.manage_guild:
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        if interaction.message is not None:
            await interaction.message.delete()
        await interaction.response.send_message(
            f"Deleted the post of {job.id}. `/sora-show job:{job.id}` posts it again.", ephemeral=True)

    async def stitch(self, interaction: discord.Interaction, job: Job) -> None:
        """Join the sequence's clips and post the result in the sequence's thread."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            clips, path = await library.stitch_sequence(self.store, self.chat.settings, job.id,
                                                        job.requester.team)
            caption = (f"🧵 {len(clips)} clips stitched: "
                       + " → ".join(MARKUP.code(c.id) for c in clips))
            thread = await self._thread(clips[0], interaction.channel_id or 0)
            try:
                await self._post_video(interaction, thread.id, None, path, caption,
                                       f"stitched-{library.sequence_of(job)}.mp4")
            finally:
                path.unlink(missing_ok=True)  # made again from the clips whenever asked
        except SoraError as exc:
            await interaction.followup.send(_said(exc), ephemeral=True)
            return
        await interaction.followup.send(f"Stitched {len(clips)} clips; nothing was charged.",
                                        ephemeral=True)

    # -- offers ----------------------------------------------------------------------------

    async def answer(self, interaction: discord.Interaction, answer: str, offer_id: str) -> None:
        """Confirm starts the offered job (reserving it now); Cancel drops it."""
        who = requester(interaction.guild_id, interaction.user)
        try:
            offer = self.chat.take_offer(offer_id, who)
        except SoraError as exc:
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        if answer == "cancel":
            await interaction.response.edit_message(
                content="Cancelled: nothing was reserved or sent.", view=None)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.starter.launch(interaction, offer.request, offer.requester, offer.context)

    # -- continuing ------------------------------------------------------------------------

    async def continuation(self, request: VideoRequest, parent_id: str, who: Requester,
                           kwargs: dict[str, Any]) -> tuple[VideoRequest, dict[str, Any]]:
        """The request with the parent's last frame as its image, and start arguments that
        put the job in its sequence's thread. The frame is posted in the thread; its CDN
        URL is what the video service fetches."""
        parent, frame = await library.last_frame(self.store, parent_id, who.team)
        sequence = library.sequence_of(parent)
        first = await self.chat.engine.job(sequence) or parent
        thread = await self._thread(first, int(kwargs["channel_id"]))
        message = await thread.send(f"🎞️ Last frame of {MARKUP.code(parent.id)}",
                                    file=discord.File(io.BytesIO(frame), filename="last-frame.png"),
                                    allowed_mentions=NO_MENTIONS)
        if not message.attachments:
            raise CannotPost("I could not post the last frame in the thread.")
        return (dataclasses.replace(request, image_url=message.attachments[0].url),
                {**kwargs, "channel_id": thread.id, "parent": parent.id, "sequence": sequence})

    async def _thread(self, first: Job, fallback: int) -> discord.PartialMessageable:
        """The thread of the sequence that starts with `first`: created from its result
        message the first time (a thread made from a message shares the message's id)."""
        guild_id = first.origin.get("guild_id")
        result = first.origin.get(RESULT)
        if first.requester.platform != "discord" or not result:
            return self.client.get_partial_messageable(fallback, guild_id=guild_id)
        channel = self.client.get_partial_messageable(int(first.origin["channel_id"]), guild_id=guild_id)
        try:
            thread = await channel.get_partial_message(int(result)).create_thread(
                name=texts.short(f"🎬 {first.request.prompt}", 100))
            thread_id = thread.id
        except discord.NotFound:  # the first result was deleted: carry on where pressed
            return self.client.get_partial_messageable(fallback, guild_id=guild_id)
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                log.warning("Cannot start a thread for sequence %s: %s", first.id, exc.code)
                raise CannotPost("I cannot start a thread here: I need the Create Public Threads "
                                 "permission.") from None
            thread_id = int(result)
        return self.client.get_partial_messageable(thread_id, guild_id=guild_id)

    # -- the library -----------------------------------------------------------------------

    async def show(self, interaction: discord.Interaction, job_id: str) -> None:
        """Post a stored video again, with its buttons, where the command was used."""
        who = requester(interaction.guild_id, interaction.user)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            job, path = await library.stored_video(self.store, job_id, who.team)
            await self._post_video(interaction, interaction.channel_id or 0, job, path,
                                   "📚 From the library: " + texts.result_caption(job, MARKUP),
                                   f"{job.id}.mp4", self.starter.view_for(job))
        except SoraError as exc:
            await interaction.followup.send(_said(exc), ephemeral=True)
            return
        await interaction.followup.send(f"Posted {job.id} again.", ephemeral=True)

    async def _post_video(self, interaction: discord.Interaction, channel_id: int,
                          job: Job | None, video: Path, caption: str, filename: str,
                          view: discord.ui.View | None = None) -> None:
        """Post `video` (of `job`, or of no single job) in the channel, fitted to the server's
        upload limit as a job's delivery is; the deferred answer shows each stage."""
        async def notify(line: str) -> None:
            try:
                await interaction.edit_original_response(content=line)
            except discord.HTTPException:  # a stage line is no reason to stop posting
                log.info("Could not show %r to the member who asked", line)

        limit = interaction.filesize_limit or DEFAULT_LIMIT
        try:
            async with self.chat.fitter.fitted(job, video, limit, notify) as path:
                channel = self.client.get_partial_messageable(channel_id)
                await channel.send(caption, file=discord.File(path, filename=filename),
                                   allowed_mentions=NO_MENTIONS, **({"view": view} if view else {}))
        finally:
            if view is not None:
                view.stop()


def _said(exc: SoraError) -> str:
    """What a member is told when a re-post fails."""
    return too_large_text(exc) if isinstance(exc, CannotFit) else exc.user_message
