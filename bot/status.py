"""The life of a job's status message, the same on every chat platform: post it when the job
is accepted, edit it as the job moves (posting anew if someone deleted it), upload the video,
end with one last line. An adapter supplies three primitives (post, edit, upload) and its
`Markup`; everything it needs after a restart is in `job.origin`."""
from __future__ import annotations

import abc
import asyncio
import logging
from pathlib import Path

from bot import texts
from bot.errors import DeliveryFailed, SoraError
from bot.models import Job, Progress

log = logging.getLogger(__name__)

#: Where the core keeps the status message's reference in `job.origin`.
REF = "status_ref"
#: How many times the engine has begun delivering the job (kept in `job.origin` before each).
DELIVERIES = "deliveries"
#: Tries at posting the video before the failure is shown and recorded.
UPLOAD_TRIES = 3


class MessageGone(Exception):
    """Raised by `edit` when the message no longer exists (deleted by someone)."""


class StatusMessage(abc.ABC):
    """JobEvents for chat. Each call returns the status message's reference when it is new, so
    the engine stores it; the object itself keeps no state a restart would lose."""

    markup: texts.Markup

    # -- the three primitives --------------------------------------------------------------

    @abc.abstractmethod
    async def post(self, job: Job, text: str) -> str:
        """Post a new status message; return its reference (a message id or ts)."""

    @abc.abstractmethod
    async def edit(self, job: Job, ref: str, text: str) -> None:
        """Replace the status message's text; raise MessageGone when it was deleted."""

    @abc.abstractmethod
    async def upload(self, job: Job, video: Path, caption: str) -> str | None:
        """Post the video; return a link to it when the platform has one. Raise
        DeliveryFailed (after `show`ing why) when it cannot be posted; anything else is taken
        as a passing fault and tried again."""

    async def find_posted(self, job: Job) -> str | None:
        """The job's video if an earlier try posted it after all (its answer lost, or the
        process stopped before recording it): a link, "" without one, None when not found.
        Platforms that can look (recent history) override this; delivery stays exactly once."""
        return None

    #: Seconds before the second try at posting; the third waits twice as long.
    retry_delay = 1.0

    # -- JobEvents -------------------------------------------------------------------------

    async def accepted(self, job: Job) -> str | None:
        return await self.show(job, "⏳ Accepted")

    async def progress(self, job: Job, progress: Progress) -> str | None:
        return await self.show(job, texts.stage_line(progress))

    async def completed(self, job: Job, video: Path) -> str | None:
        first = await self.show(job, texts.UPLOADING)
        caption = texts.result_caption(job, self.markup)
        # Resumed mid-delivery: the video may be in the channel already.
        link = await self._find(job) if int(job.origin.get(DELIVERIES) or 1) > 1 else None
        tries = 0
        while link is None:
            tries += 1
            try:
                link = await self.upload(job, video, caption) or ""
            except DeliveryFailed:
                raise
            except Exception:
                if tries >= UPLOAD_TRIES:
                    log.exception("Posting the video of job %s failed %d times", job.id, tries)
                    await self.show(job, "⚠️ The video was made but could not be posted here. "
                                         "An admin can find it on the bot's host.")
                    raise DeliveryFailed("The video was made but could not be posted.") from None
                log.warning("Posting the video of job %s failed; trying again", job.id,
                            exc_info=True)
                await asyncio.sleep(self.retry_delay * tries)
                link = await self._find(job)  # the failed try may have posted it all the same
        return await self.show(job, texts.done_line(link or None)) or first

    async def _find(self, job: Job) -> str | None:
        try:
            return await self.find_posted(job)
        except Exception:  # cannot look: post (a duplicate beats a lost video)
            log.warning("Looking for job %s's posted video failed", job.id, exc_info=True)
            return None

    async def failed(self, job: Job, error: SoraError) -> str | None:
        # The message may quote the video service: data, escaped so it cannot mention or format.
        return await self.show(job, texts.failure_line(self.markup.escape(error.user_message)))

    # -- shared ----------------------------------------------------------------------------

    async def show(self, job: Job, line: str) -> str | None:
        """Put `line` under the job's headline: edit the status message, or post one when
        there is none yet or it was deleted. Returns the reference of a newly posted one."""
        text = f"{texts.headline(job, self.markup)}\n{line}"
        ref = job.origin.get(REF)
        if ref:
            try:
                await self.edit(job, str(ref), text)
                return None
            except MessageGone:
                log.info("Status message of job %s is gone; posting a new one", job.id)
        new = await self.post(job, text)
        job.origin[REF] = new
        return new
