"""The video-service client: submit, poll, download, with typed errors and retries. One per
provider of the catalogue (see bot/providers.py), speaking that provider's dialect."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bot.catalogue import BUILTIN_PROVIDER, Provider
from bot.dialects import FORMS
from bot.errors import (
    AuthError, BalanceError, DownloadError, ModelUnavailable, RateLimited, SoraError,
    Unreachable, UpstreamError, UpstreamRejected,
)
from bot.fetching import (
    NotAVideo, VideoSink, check_size, clamp, may_fetch, read_answer, unlink_quietly,
)
from bot.models import VideoRequest
from bot.ratelimit import RateLimiter
from bot.settings import Settings

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # 1 MiB: few syscalls per video, flat memory whatever its size
STATUS_ALIASES = {"succeeded": "completed", "success": "completed", "processing": "in_progress",
                  "running": "in_progress", "pending": "queued", "submitted": "queued",
                  "error": "failed", "cancelled": "failed"}


@dataclass(frozen=True)
class TaskState:
    status: str                      # queued | in_progress | completed | failed
    progress: int | None = None
    url: str | None = None
    error: str | None = None
    poll_after: float | None = None  # the server's hint, seconds


class ApiMasterClient:
    """One per provider, over the process's one aiohttp session. Without `provider`: the
    built-in APIMaster provider (APIMASTER_BASE_URL / APIMASTER_API_KEY)."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings,
                 limiter: RateLimiter | None = None, provider: Provider | None = None,
                 downloads: asyncio.Semaphore | None = None) -> None:
        self.session = session
        self.settings = settings
        self.provider = provider or settings.catalogue.providers[BUILTIN_PROVIDER]
        self.form = FORMS[self.provider.dialect]
        self.base = (self.provider.base_url or settings.base_url).rstrip("/")
        self.origin = URL(self.base).origin()
        # The built-in provider's key is APIMASTER_API_KEY (settings.api_key); others carry
        # the key of their own api_key_env.
        self._key = (settings.api_key if self.provider.api_key_env == "APIMASTER_API_KEY"
                     else self.provider.api_key) or ""
        self.limiter = limiter or RateLimiter(settings.api_requests_per_second)
        self.requests_sent = 0  # for the benchmark's requests-per-job figure
        # Hundreds of downloads in parallel share the bandwidth, so every video arrives late
        # and each open socket buffers ~0.5 MB (see benchmarks/README.md): queue them.
        self._downloads = downloads or asyncio.Semaphore(max(1, settings.max_parallel_downloads))

    # -- the three calls -------------------------------------------------------------------

    async def submit(self, request: VideoRequest, deadline: float | None = None) -> str:
        """Create a task and return its id. Retried only where no task can have been made.
        Raises ModelUnavailable when the provider says it does not know the model."""
        spec = self.settings.catalogue.model(request.model)
        body = self.form.body(request, spec)
        data = await self._json("POST", f"{self.base}{self.form.path_for(request)}", body,
                                idempotent=False, deadline=deadline, model=spec.name)
        task_id = self.form.task_id(data)
        if task_id is None:
            log.error("Submit answer without a task id: %.300s", data)
            raise UpstreamError("The video service answered without a task id.")
        return task_id

    async def status(self, task_id: str, deadline: float | None = None) -> TaskState:
        resp_hint: list[float] = []
        data = await self._json("GET", f"{self.base}/v1/videos/{task_id}", None,
                                idempotent=True, deadline=deadline, hint=resp_hint)
        if isinstance(data.get("data"), dict):  # some versions wrap the object
            data = data["data"]
        # Every field is checked for its type: one odd answer (a NaN progress, a numeric url)
        # must not end a job whose task goes on, and is billed, upstream.
        raw = str(data.get("status") or "queued").strip().lower()
        status = STATUS_ALIASES.get(raw, raw)
        progress = data.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, int | float) \
                or not math.isfinite(progress):
            progress = None
        error = data.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("code")
        url = data.get("url") or data.get("video_url")
        return TaskState(
            status=status,
            progress=None if progress is None else int(min(max(progress, 0), 100)),
            url=url if isinstance(url, str) and url else None,
            error=str(error)[:500] if error else None,
            poll_after=resp_hint[0] if resp_hint else None,
        )

    async def download(self, task_id: str, url: str | None, dest: Path,
                       deadline: float | None = None) -> Path:
        """Stream the MP4 to a temporary file and rename it into place when complete.
        Tries the task's `url` first (when its host may be fetched), then
        `{base}/v1/videos/{id}/content`; everything by `deadline`, within the size cap."""
        link = self._fix_url(url)
        if link and not await may_fetch(link, self.origin, self.settings.download_hosts):
            link = None
        candidates = [u for u in (link, f"{self.base}/v1/videos/{task_id}/content") if u]
        dest.parent.mkdir(parents=True, exist_ok=True)
        last: SoraError = DownloadError()
        for candidate in candidates:
            try:
                await self._with_retries(lambda c=candidate: self._stream_limited(c, dest, deadline),
                                         idempotent=True, deadline=deadline)
                return dest
            except SoraError as exc:
                if isinstance(exc, AuthError | BalanceError):
                    raise
                log.warning("Download of %s from %s failed: %s", task_id, URL(candidate).host, exc)
                last = exc
        raise last

    async def download_rendition(self, task_id: str, query: str, dest: Path, *, cap: int,
                                 deadline: float | None = None) -> Path:
        """Stream the smaller rendition the provider offers of a finished video,
        `{base}/v1/videos/{id}/content?{query}` (the catalogue's `smaller_rendition`), as
        `download` streams the video; one larger than `cap` bytes is refused unread when
        its length is declared, as soon as it outgrows `cap` otherwise."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        url = f"{self.base}/v1/videos/{task_id}/content?{query}"
        await self._with_retries(lambda: self._stream_limited(url, dest, deadline, cap),
                                 idempotent=True, deadline=deadline)
        return dest

    # -- plumbing --------------------------------------------------------------------------

    def _fix_url(self, url: str | None) -> str | None:
        """Completed `url`s may omit or double the /v1 prefix; mend those on our own origin."""
        if not url:
            return None
        target = URL(url)
        if not target.is_absolute():
            target = self.origin.join(target)
        if target.origin() == self.origin and "/videos/" in target.path:
            tail = target.path[target.path.index("/videos/"):]
            target = URL(f"{self.base}/v1{tail}")
        return str(target)

    def _headers(self, url: str) -> dict[str, str]:
        # The key goes to this provider's origin only; a download link elsewhere, or another
        # provider, gets none.
        if self._key and URL(url).origin() == self.origin:
            return {"Authorization": f"Bearer {self._key}"}
        return {}

    async def _json(self, method: str, url: str, body: dict[str, Any] | None, *, idempotent: bool,
                    deadline: float | None, hint: list[float] | None = None,
                    model: str | None = None) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            # A POST starts work (a submit, a remix, an extension); a GET asks after it.
            await self.limiter.acquire("submit" if method == "POST" else "poll")
            self.requests_sent += 1
            timeout = aiohttp.ClientTimeout(total=self._budget(self.settings.http_timeout, deadline))
            async with self.session.request(method, url, json=body, headers=self._headers(url),
                                            timeout=timeout) as resp:
                data = _parse(await read_answer(resp))
                _raise_for(resp.status, data, resp.headers.get("Retry-After"), model)
                if hint is not None and (ms := resp.headers.get("openai-poll-after-ms")):
                    with contextlib.suppress(ValueError):
                        hint.append(int(ms) / 1000)
                return data

        return await self._with_retries(once, idempotent=idempotent, deadline=deadline)

    async def _stream_limited(self, url: str, dest: Path, deadline: float | None,
                              cap: int | None = None) -> None:
        async with self._downloads:  # held per attempt, not across retry back-offs
            await self._stream_once(url, dest, deadline, cap)

    async def _stream_once(self, url: str, dest: Path, deadline: float | None,
                           cap: int | None = None) -> None:
        # No pacer token: the pacer spares the API from polls; a finished video's download
        # has its own bound (SORA_MAX_DOWNLOADS) and waiting here only delayed deliveries.
        self.requests_sent += 1
        part = dest.with_name(dest.name + ".part")
        # The whole download ends by the deadline (a trickle cannot outlive the job); a
        # stalled read or connect fails sooner.
        timeout = aiohttp.ClientTimeout(
            total=None if deadline is None else max(0.1, deadline - time.time()),
            sock_connect=self.settings.http_timeout, sock_read=self.settings.http_timeout)
        cap = self.settings.max_video_bytes if cap is None else min(cap, self.settings.max_video_bytes)
        try:
            async with self.session.get(url, headers=self._headers(url), timeout=timeout) as resp:
                if resp.status != 200:
                    _raise_for(resp.status, _parse(await read_answer(resp)),
                               resp.headers.get("Retry-After"))
                    raise DownloadError(f"The finished video could not be downloaded (HTTP {resp.status}).")
                if "html" in resp.headers.get("Content-Type", ""):
                    raise NotAVideo("The download link returned a web page, not a video.")
                check_size(resp.content_length, cap)
                expected = resp.content_length
                with part.open("wb") as out:
                    sink = VideoSink(out, resp.headers.get("Content-Type", ""), cap)
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        sink.write(chunk)
                sink.finish()
            if expected is not None and sink.received != expected:
                raise DownloadError(f"The download stopped early ({sink.received} of {expected} bytes).")
            os.replace(part, dest)
        except aiohttp.ClientPayloadError as exc:
            raise DownloadError("The download stopped early.") from exc
        finally:
            unlink_quietly(part)

    async def _with_retries(self, call: Any, *, idempotent: bool, deadline: float | None) -> Any:
        """Retry transient failures with jittered exponential backoff, honouring Retry-After.
        A call that is not idempotent (a submit) is retried only when it cannot have reached
        the server: a 429, or a connection refused before the request was sent."""
        attempt = 0
        while True:
            retry_after: float | None = None
            unreachable = False
            try:
                return await call()
            except aiohttp.ClientConnectorError as exc:
                error: SoraError = Unreachable()
                unreachable = True
                log.debug("connect failed: %s", exc)
            except (TimeoutError, aiohttp.ClientError) as exc:
                error = UpstreamError("The connection to the video service failed or timed out.")
                if not idempotent:
                    raise error from exc
            except RateLimited as exc:
                error, retry_after = exc, exc.retry_after
            except SoraError as exc:
                error = exc
                if not exc.retryable or not idempotent:
                    raise
            attempt += 1
            if attempt > self.settings.max_retries:
                raise error
            delay = self.settings.retry_base_delay * (2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
            # Retry-After is a hint, kept sane: never an hour's sleep, never past the deadline.
            delay = max(delay, clamp(retry_after, 0.0, self.settings.hint_ceiling) or 0.0)
            if deadline is not None and time.time() + delay >= deadline:
                raise error
            if unreachable:  # a warning, so `generate` shows it: silence here lasted half a minute
                log.warning("APIMaster unreachable, retry %d in %s s", attempt,
                            f"{delay:.{1 if delay < 10 else 0}f}".removesuffix(".0"))
            else:
                log.info("APIMaster call failed (%s); retry %d in %.2fs", type(error).__name__, attempt, delay)
            await asyncio.sleep(delay)

    @staticmethod
    def _budget(default: float, deadline: float | None) -> float:
        if deadline is None:
            return default
        return max(0.1, min(default, deadline - time.time()))


def _parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}


def _error_code(data: dict[str, Any]) -> str | None:
    """`{"code": "model_not_found"}` or OpenAI's `{"error": {"code": ...}}`."""
    error = data.get("error")
    for code in (data.get("code"), error.get("code") if isinstance(error, dict) else error):
        if isinstance(code, str):
            return code
    return None


def _raise_for(status: int, data: dict[str, Any], retry_after: str | None,
               model: str | None = None) -> None:
    """Map an HTTP status, or an error `code` in a 200 body, to a typed error. `model`: the
    catalogue model of a submit, where 404 or `model_not_found` means no task was made."""
    code = data.get("code")
    if status == 200 and isinstance(code, int) and code not in (0, 200):
        status = code
    if model is not None and (status == 404 or _error_code(data) == "model_not_found"):
        raise ModelUnavailable(model)
    if status < 400:
        return
    error = data.get("error")
    message = str(data.get("message") or (error.get("message") if isinstance(error, dict) else error)
                  or "")[:200]
    if status == 400:
        raise UpstreamRejected(f"The video service refused the request: {message or 'invalid parameters'}.")
    if status == 401:
        raise AuthError()
    if status == 402:
        raise BalanceError()
    if status == 429:
        seconds = None
        with contextlib.suppress(TypeError, ValueError):
            seconds = float(retry_after)  # type: ignore[arg-type]
        raise RateLimited(retry_after=seconds)
    if status == 404:
        raise UpstreamRejected("The video service does not know this job or address (HTTP 404). "
                               "If it keeps happening, an admin should check APIMASTER_BASE_URL.")
    if status >= 500:
        raise UpstreamError()
    raise UpstreamRejected(f"The video service answered with an unexpected error (HTTP {status}).")
