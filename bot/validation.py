"""Validation and pricing: every field is checked before any request leaves."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from bot.errors import InvalidRequest
from bot.models import VideoRequest, to_micros
from bot.settings import Settings

# The option vocabulary: every front end takes its choices from here.
MODELS = ("sora-2", "sora-2-pro")
MODEL_ALIASES = {"sora": "sora-2"}
DURATIONS = (4, 8, 12, 16, 20)
RESOLUTIONS = {"sora-2": ("720p",), "sora-2-pro": ("720p", "1024p", "1080p")}
ALL_RESOLUTIONS = ("720p", "1024p", "1080p")
ASPECT_NAMES = {"16:9": "landscape", "9:16": "portrait"}
ASPECTS = {**{a: a for a in ASPECT_NAMES}, **{name: a for a, name in ASPECT_NAMES.items()}}
DEFAULT_MODEL, DEFAULT_DURATION, DEFAULT_RESOLUTION, DEFAULT_ASPECT = "sora-2", 4, "720p", "16:9"


def durations_text() -> str:
    """ "4, 8, 12, 16 or 20" """
    *rest, last = map(str, DURATIONS)
    return f"{', '.join(rest)} or {last}" if rest else last


def validate(request: VideoRequest, settings: Settings) -> VideoRequest:
    """Return the request normalised, or raise InvalidRequest naming what to fix."""
    prompt = " ".join(request.prompt.split())
    if not prompt:
        raise InvalidRequest("Please describe the video: the prompt is empty.")
    if len(prompt) > settings.max_prompt_chars:
        raise InvalidRequest(
            f"The prompt is {len(prompt):,} characters; the limit is {settings.max_prompt_chars:,}."
        )
    model = MODEL_ALIASES.get(request.model.strip().lower(), request.model.strip().lower())
    if model not in MODELS:
        raise InvalidRequest(f"Unknown model {request.model!r}: use sora-2 or sora-2-pro.")
    duration = request.duration
    if isinstance(duration, str):
        duration = duration.strip().rstrip("s")
    try:
        duration = int(duration)
    except (TypeError, ValueError):
        duration = -1
    if duration not in DURATIONS:
        raise InvalidRequest(f"Duration must be {durations_text()} seconds.")
    resolution = request.resolution.strip().lower()
    if resolution not in RESOLUTIONS["sora-2-pro"]:
        raise InvalidRequest("Resolution must be 720p, 1024p or 1080p.")
    if resolution not in RESOLUTIONS[model]:
        raise InvalidRequest(f"{resolution} needs sora-2-pro; sora-2 makes 720p only.")
    aspect = request.aspect
    if aspect is not None:
        aspect = ASPECTS.get(aspect.strip().lower())
        if aspect is None:
            raise InvalidRequest("Aspect must be 16:9 (landscape) or 9:16 (portrait).")
    image_url = request.image_url.strip() if request.image_url else None
    if image_url:
        parts = urlsplit(image_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest("The image must be an http(s) URL.")
    elif aspect is None:
        aspect = "16:9"  # only image-to-video may leave the aspect to the image
    normalised = replace(
        request, prompt=prompt, model=model, duration=duration, resolution=resolution,
        aspect=aspect, image_url=image_url or None,
    )
    cost_micros(normalised, settings)  # an unpriced combination is refused here too
    return normalised


def cost_micros(request: VideoRequest, settings: Settings) -> int:
    """Cost of a validated request in micro-dollars: duration x per-second rate."""
    rate = settings.prices.get((request.model, request.resolution))
    if rate is None:
        raise InvalidRequest(f"No price is set for {request.model} at {request.resolution}.")
    return request.duration * to_micros(rate)
