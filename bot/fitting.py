"""A finished video under a chat's upload limit, once for every path that posts one (a job's
delivery, a library re-post, a stitched sequence): the video itself when it fits; else the
smaller rendition its provider offers (the catalogue's `smaller_rendition`), fetched rather
than made; else a copy re-encoded within the process's transcoding bound (`Transcoder`).
Each stage's line goes to the user through the caller's `notify`."""
from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from bot import texts, transcode
from bot.errors import DeliveryFailed, SoraError
from bot.fetching import VideoTooLarge, unlink_quietly
from bot.models import Job
from bot.providers import ProviderClients
from bot.settings import Settings
from bot.transcode import Transcoder

log = logging.getLogger(__name__)

#: Shows the user one stage's line (a status message edit, an interaction's answer).
Notify = Callable[[str], Awaitable[object]]
#: The rendition's window, in SORA_HTTP_TIMEOUTs: longer, and re-encoding is the quicker way.
RENDITION_TIMEOUTS = 4


class CannotFit(DeliveryFailed):
    """Neither a smaller rendition nor re-encoding brings the video under the limit. The
    adapter words it for its platform from `size` and `limit`."""

    user_message = "The video is too large to upload here, even after shrinking."

    def __init__(self, size: int, limit: int) -> None:
        super().__init__()
        self.size, self.limit = size, limit


class UploadFitter:
    """One per process (`ChatJobs.fitter`), shared by every path that posts a video."""

    def __init__(self, settings: Settings, clients: ProviderClients, transcoder: Transcoder) -> None:
        self.settings = settings
        self.clients = clients
        self.transcoder = transcoder

    @contextlib.asynccontextmanager
    async def fitted(self, job: Job | None, video: Path, limit: int,
                     notify: Notify) -> AsyncIterator[Path]:
        """`video`, or a copy of at most `limit` bytes, for the length of the block; a copy is
        deleted after it. `job`: the video's job, whose provider may offer a smaller rendition
        (None: a file of no single job, such as a stitched sequence). Raises CannotFit."""
        size = video.stat().st_size
        if size <= limit:
            yield video
            return
        label = f"Job {job.id}" if job is not None else video.name
        copy = await self._rendition(job, size, limit, video, notify)
        if copy is None:
            copy = await self._shrunk(label, video, size, limit, notify)
        try:
            await notify(texts.UPLOADING)
            yield copy
        finally:
            unlink_quietly(copy)

    def rendition_query(self, job: Job | None) -> str | None:
        """The query that asks `job`'s provider for a smaller rendition; None when it has none."""
        if job is None or not job.task_id:
            return None
        model = self.settings.catalogue.resolve(job.request.model)
        return self.settings.catalogue.specs[model].smaller_rendition if model else None

    async def _rendition(self, job: Job | None, size: int, limit: int, video: Path,
                         notify: Notify) -> Path | None:
        """The provider's smaller rendition, when it offers one that fits; None otherwise
        (why is logged: re-encoding follows)."""
        query = self.rendition_query(job)
        if query is None:
            return None
        assert job is not None and job.task_id is not None
        await notify(texts.fetching_smaller_line(size, limit))
        dest = _beside(video, "rendition")
        deadline = time.time() + RENDITION_TIMEOUTS * self.settings.http_timeout
        try:
            client = self.clients.for_model(job.request.model)
            await client.download_rendition(job.task_id, query, dest, cap=limit, deadline=deadline)
        except VideoTooLarge:
            log.info("Job %s: the provider's smaller rendition is over the %d-byte upload limit "
                     "too; shrinking instead", job.id, limit)
        except SoraError as exc:
            log.warning("Job %s: the provider's smaller rendition could not be fetched (%s); "
                        "shrinking instead", job.id, exc.user_message)
        except OSError as exc:
            log.warning("Job %s: the smaller rendition could not be saved (%s); shrinking "
                        "instead", job.id, exc.strerror or type(exc).__name__)
        except BaseException:  # cancelled: nothing of it stays behind
            unlink_quietly(dest)
            raise
        else:
            log.info("Job %s: posting the provider's smaller rendition (%d bytes) instead of "
                     "re-encoding", job.id, dest.stat().st_size)
            return dest
        unlink_quietly(dest)
        return None

    async def _shrunk(self, label: str, video: Path, size: int, limit: int,
                      notify: Notify) -> Path:
        """A copy re-encoded under `limit`, in the transcoder's turn; CannotFit when none fits."""
        dest = _beside(video, "small")
        try:
            if self.transcoder.must_wait:
                await notify(texts.waiting_to_shrink_line(size))
            async with self.transcoder.turn():
                await notify(texts.shrinking_line(size, limit))
                shrunk = await transcode.shrink(video, limit, dest)
        except BaseException:  # cancelled mid-encode: no half-written copy stays behind
            unlink_quietly(dest)
            raise
        if shrunk is None:
            unlink_quietly(dest)
            log.warning("%s: %s (%d bytes) cannot be shrunk under the %d-byte upload limit",
                        label, video.resolve(), size, limit)
            raise CannotFit(size, limit)
        return shrunk


def _beside(video: Path, what: str) -> Path:
    """A name for a copy of `video` next to it, unique: the same video may be fitted for two
    posts at once (a library re-post while it is being delivered)."""
    return video.with_name(f"{video.stem}.{what}-{secrets.token_hex(4)}.mp4")
