"""The request grammar every text front end shares (Slack's `/sora`, the console): flags may
stand anywhere, the other words are the prompt. Values are checked by `bot.validation`."""
from __future__ import annotations

from bot import catalogue as catalogue_
from bot.catalogue import DEFAULT_MODEL, Catalogue
from bot.errors import InvalidRequest
from bot.models import VideoRequest

#: Flags that take a value, and flags that stand for one.
VALUE_FLAGS = ("model", "duration", "resolution", "aspect")
SHORTHANDS = {
    "pro": ("model", "sora-2-pro"),
    "portrait": ("aspect", "9:16"),
    "landscape": ("aspect", "16:9"),
}
_EXAMPLES = {"model": "--model sora-2-pro", "duration": "--duration 8",
             "resolution": "--resolution 1080p", "aspect": "--aspect 9:16"}
# Phones and macOS turn "--" into an em or en dash; accept those as the flag prefix.
_DASHES = ("--", "\u2014", "\u2013")


class FlagError(InvalidRequest):
    """The request text cannot be understood; the message says how to fix it."""


def options_help(catalogue: Catalogue = catalogue_.BUILTIN) -> str:
    """One line naming every option and its values, from the catalogue (each model offers
    its own subset: `sora-bot models` lists them)."""
    return (f"Options: --model {'|'.join(catalogue.models())}, "
            f"--duration {'|'.join(map(str, catalogue.durations()))}, "
            f"--resolution {'|'.join(catalogue.resolutions())}, "
            f"--aspect {'|'.join(catalogue.aspects())}, "
            f"and the shorthands {', '.join('--' + s for s in SHORTHANDS)}.")


def flag_name(word: str) -> str | None:
    """`--pro` -> "pro"; None for a word that is not a flag."""
    for dash in _DASHES:
        if word.startswith(dash) and len(word) > len(dash):
            return word[len(dash):]
    return None


def parse_request(text: str, catalogue: Catalogue = catalogue_.BUILTIN) -> VideoRequest:
    """A video request from free text: `a red fox --pro --duration 8 --portrait`. Options
    not given take the chosen model's defaults from the catalogue."""
    chosen: dict[str, str] = {}
    prompt: list[str] = []
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        name = flag_name(word)
        i += 1
        if name is None:
            prompt.append(word)
            continue
        name, eq, value = name.partition("=")
        name = name.lower()
        if name in SHORTHANDS:
            if eq:
                raise FlagError(f"--{name} takes no value. {options_help(catalogue)}")
            key, value = SHORTHANDS[name]
        elif name in VALUE_FLAGS:
            key = name
            if not eq:
                if i >= len(words) or flag_name(words[i]) is not None:
                    raise FlagError(f"--{name} needs a value, for example {_EXAMPLES[name]}.")
                value = words[i]
                i += 1
            if not value:
                raise FlagError(f"--{name} needs a value, for example {_EXAMPLES[name]}.")
        else:
            raise FlagError(f"Unknown option --{name}. {options_help(catalogue)}")
        value = value.strip().lower()
        if key in chosen and chosen[key] != value:
            raise FlagError(
                f"Conflicting options: {key} is both {chosen[key]} and {value}. Keep one of them."
            )
        chosen[key] = value
    duration = None
    if "duration" in chosen:
        raw = chosen["duration"].removesuffix("s")
        if not raw.isdigit():
            spec = _spec(catalogue, chosen.get("model"))
            raise FlagError(f"--duration takes whole seconds: {spec.durations_text()}.")
        duration = int(raw)
    return fill(catalogue, " ".join(prompt), chosen.get("model"), duration,
                chosen.get("resolution"), chosen.get("aspect"))


def fill(catalogue: Catalogue, prompt: str, model: str | None = None,
         duration: int | None = None, resolution: str | None = None, aspect: str | None = None,
         image_url: str | None = None) -> VideoRequest:
    """A request from the options a member gave; the rest are the chosen model's defaults
    (an image-to-video request may leave the aspect to its image). Every front end's form,
    command or flags end here, so a catalogue model gets its own defaults everywhere."""
    model = model or DEFAULT_MODEL
    default_duration, default_resolution, default_aspect = _spec(catalogue, model).defaults()
    return VideoRequest(
        prompt=prompt, model=model,
        duration=default_duration if duration is None else duration,
        resolution=resolution or default_resolution,
        aspect=aspect or (None if image_url else default_aspect),
        image_url=image_url,
    )


def _spec(catalogue: Catalogue, model: str | None) -> catalogue_.ModelSpec:
    # An unknown model gets the default's entry here and is refused by validate().
    return (catalogue.specs.get(catalogue.resolve(model or DEFAULT_MODEL) or "")
            or catalogue.model(DEFAULT_MODEL))
