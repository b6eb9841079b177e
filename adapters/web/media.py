"""Public links to files the bot hosts for a video service to fetch (a Slack image, a last
frame to continue from): unguessable, expiring `PUBLIC_BASE_URL/media/<token>` addresses.

Links live as files named by their token, so they survive a restart; the file's mtime dates
them. Nothing else is served: no listing, no paths, expired links are 404.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from pathlib import Path

from aiohttp import web

from bot.errors import SoraError
from bot.images import sniff

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

NO_PUBLIC_URL_MESSAGE = (
    "Image-to-video needs a public address for the image, and `PUBLIC_BASE_URL` is not set. "
    "An admin needs to set `PUBLIC_BASE_URL` to the bot's public https address "
    "(the server that answers at /media/...)."
)


class ImageError(SoraError):
    """The Slack file cannot be used as the start image."""


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
