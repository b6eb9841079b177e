"""Validation and pricing: every field is checked, against the model's entry in the catalogue
(`settings.catalogue`), before any request leaves."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from bot.catalogue import ASPECT_WORDS, Catalogue, ModelSpec, or_list
from bot.errors import InvalidRequest
from bot.models import VideoRequest, to_micros
from bot.settings import Settings

def aspect_of(text: str, catalogue: Catalogue) -> str | None:
    """ "portrait" -> "9:16"; a ratio the catalogue knows -> itself; else None."""
    text = text.strip().lower()
    words = {word: ratio for ratio, word in ASPECT_WORDS.items()}
    ratio = words.get(text, text)
    return ratio if ratio in catalogue.aspects() else None


def validate(request: VideoRequest, settings: Settings) -> VideoRequest:
    """Return the request normalised, or raise InvalidRequest naming what to fix."""
    catalogue = settings.catalogue
    prompt = " ".join(request.prompt.split())
    if not prompt:
        raise InvalidRequest("Please describe the video: the prompt is empty.")
    if len(prompt) > settings.max_prompt_chars:
        raise InvalidRequest(
            f"The prompt is {len(prompt):,} characters; the limit is {settings.max_prompt_chars:,}."
        )
    model = catalogue.resolve(request.model)
    if model is None:
        raise InvalidRequest(f"Unknown model {request.model!r}: use {or_list(catalogue.models())}.")
    spec = catalogue.specs[model]
    duration = _duration(request.duration, spec)
    resolution = _resolution(request.resolution, spec, catalogue)
    aspect = request.aspect
    if aspect is not None:
        aspect = _aspect(aspect, spec, catalogue)
    image_url = request.image_url.strip() if request.image_url else None
    if image_url:
        parts = urlsplit(image_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest("The image must be an http(s) URL.")
        if spec.images < 1:
            others = catalogue.offering(images=True)
            raise InvalidRequest(f"{model} makes videos from text only: remove the image"
                                 + (f" or use {or_list(others)}." if others else "."))
    elif aspect is None:
        aspect = spec.defaults()[2]  # only image-to-video may leave the aspect to the image
    if request.remix_of and not spec.remix:
        raise InvalidRequest(f"{model} cannot remix a video: use Edit to run it again.")
    if request.extend_of and not spec.extend:
        raise InvalidRequest(f"{model} cannot extend a video: use Continue from its last frame.")
    normalised = replace(
        request, prompt=prompt, model=model, duration=duration, resolution=resolution,
        aspect=aspect, image_url=image_url or None,
    )
    cost_micros(normalised, settings)  # an unpriced combination is refused here too
    return normalised


def _duration(raw: int | str, spec: ModelSpec) -> int:
    duration: object = raw
    if isinstance(duration, str):
        duration = duration.strip().rstrip("s")
    try:
        seconds = int(duration)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        seconds = -1
    if seconds not in spec.durations:
        raise InvalidRequest(f"{spec.name} offers {spec.durations_text()} seconds.")
    return seconds


def _resolution(raw: str, spec: ModelSpec, catalogue: Catalogue) -> str:
    resolution = raw.strip().lower()
    if resolution not in catalogue.resolutions():
        raise InvalidRequest(f"Resolution must be {or_list(catalogue.resolutions())}.")
    if resolution not in spec.prices:
        raise InvalidRequest(f"{resolution} needs {or_list(catalogue.offering(resolution=resolution))}; "
                             f"{spec.name} makes {or_list(spec.resolutions)} only.")
    return resolution


def _aspect(raw: str, spec: ModelSpec, catalogue: Catalogue) -> str:
    aspect = aspect_of(raw, catalogue)
    if aspect is None:
        named = [f"{a} ({ASPECT_WORDS[a]})" if a in ASPECT_WORDS else a for a in catalogue.aspects()]
        raise InvalidRequest(f"Aspect must be {or_list(named)}.")
    if aspect not in spec.aspects:
        raise InvalidRequest(f"{aspect} needs {or_list(catalogue.offering(aspect=aspect))}; "
                             f"{spec.name} makes {or_list(spec.aspects)} only.")
    return aspect


def cost_micros(request: VideoRequest, settings: Settings) -> int:
    """Cost of a validated request in micro-dollars: duration x the model's per-second rate."""
    try:
        rate = settings.catalogue.model(request.model).prices.get(request.resolution)
    except KeyError:
        rate = None
    if rate is None:
        raise InvalidRequest(f"No price is set for {request.model} at {request.resolution}.")
    return request.duration * to_micros(rate)
