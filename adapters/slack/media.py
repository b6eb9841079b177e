"""Fetching a private Slack file with the bot token and checking it is an image; the bot then
serves it at PUBLIC_BASE_URL/media/<unguessable token> (adapters/web/media.py).

APIMaster needs a public URL and Slack file URLs are private, so the bot hosts the image
itself. Links live as files named by their token, so they survive a restart; the file's
mtime dates them. Nothing else is served: no listing, no paths, expired links are 404.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from adapters.web.media import NO_PUBLIC_URL_MESSAGE, ImageError, MediaLinks
from bot.images import sniff

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 20 * 1024 * 1024

SCOPE_MESSAGE = (
    "Slack sent a sign-in page instead of the image: the app is missing the `files:read` scope. "
    "An admin needs to add `files:read` to the Slack app and reinstall it."
)


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


__all__ = ["NO_PUBLIC_URL_MESSAGE", "SCOPE_MESSAGE", "ImageError", "MediaLinks", "download_slack_image"]
