"""Image-to-video from a chat message: which files count as images (one rule for every
front end) and the request a message makes."""
from __future__ import annotations

from bot.models import VideoRequest
from bot.settings import Settings

#: What the video service accepts as a reference image.
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
NO_IMAGE = "That message has no PNG, JPEG or WebP image, so there is nothing to animate."


def is_image(content_type: str | None, filename: str | None = None) -> bool:
    """A PNG, JPEG or WebP file, by its declared type or, when none is given, its name."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind:
        return kind in IMAGE_TYPES
    return (filename or "").lower().endswith(IMAGE_EXTENSIONS)


def sniff(data: bytes) -> str | None:
    """The image type from its magic bytes, or None if it is not PNG, JPEG or WebP."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_request(settings: Settings, text: str, image_url: str | None = None) -> VideoRequest:
    """A reaction or context-menu job: the settings' model and duration, the message's text as
    the prompt (or the default prompt), the aspect left to the image."""
    prompt = " ".join(text.split()) or settings.reaction_prompt
    return VideoRequest(prompt=prompt[:settings.max_prompt_chars], model=settings.reaction_model,
                        duration=settings.reaction_duration, aspect=None, image_url=image_url)
