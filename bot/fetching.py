"""What the client accepts from the network: answers of bounded size, videos that are videos
and no larger than the cap, download hosts that are not someone's internal address, and
server hints kept within sane bounds. Upstream answers are data, never trusted as given."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import socket
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import aiohttp
from yarl import URL

from bot.errors import DownloadError, UpstreamError

log = logging.getLogger(__name__)

#: A JSON answer larger than this is not a task or a status; treated as a passing fault.
MAX_ANSWER_BYTES = 1 << 20


class VideoTooLarge(DownloadError):
    retryable = False


class NotAVideo(DownloadError):
    retryable = False


def clamp(value: float | None, low: float, high: float) -> float | None:
    """`value` within [low, high]; None for a missing or non-finite hint."""
    if value is None or not math.isfinite(value):
        return None
    return min(max(value, low), high)


async def read_answer(resp: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES) -> str:
    """The body of a JSON answer, read up to `limit`; a larger or undecodable one raises a
    passing fault (the poll loop rides it out until the job's deadline)."""
    if resp.content_length is not None and resp.content_length > limit:
        raise UpstreamError("The video service sent an answer too large to be one.")
    body = await resp.content.read(limit + 1)
    if len(body) > limit:
        raise UpstreamError("The video service sent an answer too large to be one.")
    try:
        return body.decode(resp.charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise UpstreamError("The video service sent an answer that is not text.") from None


class VideoSink:
    """Writes a download to `out`, refusing one that is not a video or outgrows the cap."""

    def __init__(self, out: BinaryIO, content_type: str, cap: int) -> None:
        self.out = out
        self.declared_video = content_type.split(";")[0].strip().lower().startswith("video/")
        self.cap = cap
        self.received = 0
        self._head = b""

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.cap:
            raise VideoTooLarge(f"The video is larger than the {self.cap // 1_000_000} MB the bot "
                                "accepts (SORA_MAX_VIDEO_BYTES).")
        if len(self._head) < 12:
            self._head += chunk[:12]
            if len(self._head) >= 12 and not self.declared_video and self._head[4:8] != b"ftyp":
                raise NotAVideo("The download link returned something that is not a video.")
        self.out.write(chunk)

    def finish(self) -> None:
        if self.received == 0:
            raise DownloadError("The download was empty.")
        if not self.declared_video and self._head[4:8] != b"ftyp":
            raise NotAVideo("The download link returned something that is not a video.")


def check_size(declared: int | None, cap: int) -> None:
    if declared is not None and declared > cap:
        raise VideoTooLarge(f"The video is larger than the {cap // 1_000_000} MB the bot "
                            "accepts (SORA_MAX_VIDEO_BYTES).")


async def may_fetch(url: str, provider: URL, allowed: Collection[str]) -> bool:
    """Whether a download link the provider named may be fetched: its own host (any port), a
    host listed in SORA_DOWNLOAD_HOSTS, or a host whose every address is public. Checked
    after DNS resolution, so a name pointing inside the network is refused too."""
    target = URL(url)
    host = (target.host or "").lower()
    if target.scheme not in ("http", "https") or not host:
        return False
    if host == (provider.host or "").lower() or host in allowed:
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, target.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    internal = [a for a in addresses if not a.is_global]
    if internal:
        log.warning("Not fetching a download link on %s: it resolves to an internal address", host)
    return bool(addresses) and not internal


def unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("Could not remove %s", path.name, exc_info=True)
