"""Public image links: fetch a private Slack file with the bot token, check it is an image,
and serve it at PUBLIC_BASE_URL/media/<unguessable token> for a limited time.

APIMaster needs a public URL and Slack file URLs are private, so the bot hosts the image
itself. Links live as files named by their token, so they survive a restart; the file's
mtime dates them. Nothing else is served: no listing, no paths, expired links are 404.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.errors import SoraError
from bot.images import sniff

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

SCOPE_MESSAGE = (
    "Slack sent a sign-in page instead of the image: the app is missing the `files:read` scope. "
    "An admin needs to add `files:read` to the Slack app and reinstall it."
)
NO_PUBLIC_URL_MESSAGE = (
    "Image-to-video needs a public address for the image, and `PUBLIC_BASE_URL` is not set. "
    "An admin needs to set `PUBLIC_BASE_URL` to the bot's public https address "
    "(the server that answers at /media/...)."
)


class ImageError(SoraError):
    """The Slack file cannot be used as the start image."""


def is_slack_host(url: str, api_url: str | None) -> bool:
    """Send the bot token only to Slack (or to the host SLACK_API_URL points at)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "slack.com" or host.endswith(".slack.com") or host.endswith(".slack-gov.com"):
        return True
    return bool(api_url) and host == (urlsplit(api_url).hostname or "").lower()


async def download_slack_image(
    session: aiohttp.ClientSession, url: str, bot_token: str, *,
    api_url: str | None = None, timeout: float = 60.0, max_bytes: int = MAX_IMAGE_BYTES,
) -> bytes:
    """Fetch a `url_private` file; raise ImageError with a message fit for the user."""
    if not is_slack_host(url, api_url):
        raise ImageError("That file is not stored on Slack, so the bot will not fetch it.")
    try:
        async with session.get(
            url, headers={"Authorization": f"Bearer {bot_token}"},
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=10),
        ) as resp:
            if resp.status != 200:
                log.warning("Slack file download answered HTTP %s", resp.status)
                raise ImageError(f"Slack would not hand over the image (HTTP {resp.status}).")
            if resp.content_type == "text/html":
                raise ImageError(SCOPE_MESSAGE)
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ImageError(_too_big(max_bytes))
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise ImageError(_too_big(max_bytes))
    except (TimeoutError, aiohttp.ClientError):
        log.warning("Slack file download failed", exc_info=True)
        raise ImageError("The image could not be downloaded from Slack. Please try again.") from None
    body = bytes(data)
    if sniff(body) is None:
        if body.lstrip()[:1] == b"<":
            raise ImageError(SCOPE_MESSAGE)
        raise ImageError("That file is not a PNG, JPEG or WebP image.")
    return body


def _too_big(max_bytes: int) -> str:
    return f"The image is larger than {max_bytes // (1024 * 1024)} MB; please use a smaller one."


class MediaLinks:
    """Unguessable, expiring links to images the bot hosts for APIMaster to fetch."""

    def __init__(self, directory: Path, base_url: str | None, ttl: float) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/") if base_url else None
        self.ttl = ttl

    @property
    def enabled(self) -> bool:
        return self.base_url is not None

    def publish(self, image: bytes) -> str:
        """Store the image and return its public URL."""
        if self.base_url is None:
            raise ImageError(NO_PUBLIC_URL_MESSAGE)
        if sniff(image) is None:
            raise ImageError("That file is not a PNG, JPEG or WebP image.")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prune()
        token = secrets.token_urlsafe(32)
        tmp = self.directory / f".{token}.part"
        tmp.write_bytes(image)
        os.replace(tmp, self.directory / token)
        return f"{self.base_url}/media/{token}"

    def lookup(self, token: str) -> Path | None:
        """The file behind a live token, or None (bad shape, unknown or expired)."""
        if not _TOKEN.match(token):
            return None
        path = self.directory / token
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            return None
        return path if age <= self.ttl else None

    def prune(self) -> None:
        """Delete expired links."""
        if not self.directory.is_dir():
            return
        now = time.time()
        for path in self.directory.iterdir():
            try:
                if _TOKEN.match(path.name) and now - path.stat().st_mtime > self.ttl:
                    path.unlink()
            except OSError:
                log.debug("Could not prune %s", path.name, exc_info=True)

    async def handle(self, request: web.Request) -> web.Response:
        """GET /media/{token}: the image, or 404 for anything else."""
        path = self.lookup(request.match_info.get("token", ""))
        if path is None:
            raise web.HTTPNotFound()
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            raise web.HTTPNotFound() from None
        kind = sniff(data)
        if kind is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type=kind, headers={
            "Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff",
        })

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/media/{token}", self.handle)
