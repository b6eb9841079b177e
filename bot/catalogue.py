"""The model catalogue: which video models the bot offers, on which provider, with which
durations, resolutions, aspects and prices.

Why it exists: OpenAI shut the Sora 2 API down on 2026-09-24 and resellers answer "model not
found" since, while the same resellers serve other models (Kling, Veo, Wan, ...) on the same
task API. A team keeps making videos by editing one TOML file (`SORA_MODELS_FILE`), not code.

The API the front ends read their choices from:
- `Catalogue.models()`: model names in order (built-ins first, aliases not included);
- `Catalogue.model(name)`: the `ModelSpec` of a name or alias (KeyError when unknown);
- `ModelSpec.durations`, `.resolutions`, `.prices` ($/s per resolution), `.aspects`,
  `.images`, `.fallback`, `.durations_text()`, `.rates_text()`, `.summary()`, `.defaults()`;
- `Catalogue.matching(typed)`: model names for an autocomplete (at most 25);
- `Catalogue.durations()`, `.resolutions()`, `.aspects()`: the union over every model;
- `aspect_name(ratio)`: "landscape", "portrait", "square" or None.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from bot.errors import ConfigError

Dialect = Literal["apimaster", "openai"]
DIALECTS: tuple[Dialect, ...] = ("apimaster", "openai")
BUILTIN_PROVIDER = "apimaster"
DEFAULT_MODEL = "sora-2"
DEFAULT_DURATION, DEFAULT_RESOLUTION, DEFAULT_ASPECT = 4, "720p", "16:9"
ASPECT_WORDS = {"16:9": "landscape", "9:16": "portrait", "1:1": "square"}
#: OpenAI's `size` for each (resolution, aspect): the openai dialect can send only these.
OPENAI_SIZES = {
    ("720p", "16:9"): "1280x720", ("720p", "9:16"): "720x1280",
    ("1024p", "16:9"): "1792x1024", ("1024p", "9:16"): "1024x1792",
    ("1080p", "16:9"): "1920x1080", ("1080p", "9:16"): "1080x1920",
}
PROVIDER_KEYS = frozenset({"dialect", "base_url", "api_key_env"})
MODEL_KEYS = frozenset({"provider", "upstream", "durations", "aspects", "prices",
                        "resolution_field", "resolution_values", "images", "extra", "fallback",
                        "remix", "extend", "smaller_rendition"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_RESOLUTION = re.compile(r"^[a-z0-9]+$")
_ASPECT = re.compile(r"^[1-9][0-9]*:[1-9][0-9]*$")
_QUERY_PART = r"[A-Za-z0-9._~%-]+=[A-Za-z0-9._~%-]*"
_QUERY = re.compile(rf"^{_QUERY_PART}(&{_QUERY_PART})*$")


@dataclass(frozen=True)
class Provider:
    """Where a model's requests go. `base_url`/`api_key` None: the APIMASTER_* settings."""

    name: str
    dialect: Dialect = "apimaster"
    base_url: str | None = None
    api_key_env: str = "APIMASTER_API_KEY"
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    durations: tuple[int, ...]
    #: Dollars per second by resolution; its keys, in order, are the resolutions offered.
    prices: Mapping[str, float]
    aspects: tuple[str, ...] = ("16:9", "9:16")
    provider: str = BUILTIN_PROVIDER
    upstream: str = ""
    resolution_field: str = "resolution"
    resolution_values: Mapping[str, str] = field(default_factory=dict)
    images: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)
    fallback: str | None = None
    #: The provider remixes a finished video with a new prompt (openai dialect:
    #: POST {base}/v1/videos/{id}/remix), or extends it (POST {base}/v1/videos/extensions).
    remix: bool = False
    extend: bool = False
    #: The provider serves a smaller MP4 of a finished video at
    #: `{base}/v1/videos/{id}/content?{smaller_rendition}` (a query such as "variant=small"):
    #: fetched instead of re-encoding when a video is over a chat's upload limit.
    smaller_rendition: str | None = None

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(self.prices)

    @property
    def model_id(self) -> str:
        """The id sent upstream."""
        return self.upstream or self.name

    def resolution_value(self, resolution: str) -> str:
        return self.resolution_values.get(resolution, resolution)

    def durations_text(self) -> str:
        """ "4, 8, 12, 16 or 20" """
        return or_list(map(str, self.durations))

    def rates_text(self) -> str:
        """ "720p $0.07/s, 1080p $0.11/s" """
        return ", ".join(f"{r} ${p:.2f}/s" for r, p in self.prices.items())

    def summary(self) -> str:
        """One line for help texts and choice lists."""
        image = "image input" if self.images else "text only"
        return (f"{self.name}: {self.durations_text()} s; {self.rates_text()}; "
                f"{', '.join(self.aspects)}; {image}"
                + (f"; fallback {self.fallback}" if self.fallback else ""))

    def defaults(self) -> tuple[int, str, str]:
        """(duration, resolution, aspect) when the user names none: today's defaults where
        the model offers them, else its first."""
        return (DEFAULT_DURATION if DEFAULT_DURATION in self.durations else self.durations[0],
                DEFAULT_RESOLUTION if DEFAULT_RESOLUTION in self.prices else self.resolutions[0],
                DEFAULT_ASPECT if DEFAULT_ASPECT in self.aspects else self.aspects[0])


@dataclass(frozen=True)
class Catalogue:
    providers: Mapping[str, Provider]
    specs: Mapping[str, ModelSpec]
    aliases: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None  # the file it was read from, for messages

    def models(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def resolve(self, name: str) -> str | None:
        """The model a name or alias stands for (case-insensitive), or None."""
        key = name.strip().lower()
        key = self.aliases.get(key, key)
        for model in self.specs:
            if model.lower() == key:
                return model
        return None

    def model(self, name: str) -> ModelSpec:
        model = self.resolve(name)
        if model is None:
            raise KeyError(name)
        return self.specs[model]

    def matching(self, typed: str, limit: int = 25) -> tuple[str, ...]:
        """Models whose name contains what was typed, those starting with it first: for an
        autocomplete (Discord shows at most 25 choices)."""
        text = typed.strip().lower()
        hits = [m for m in self.specs if text in m.lower()]
        hits.sort(key=lambda m: not m.lower().startswith(text))
        return tuple(hits[:limit])

    def provider_of(self, name: str) -> Provider:
        return self.providers[self.model(name).provider]

    def durations(self) -> tuple[int, ...]:
        return tuple(sorted({d for s in self.specs.values() for d in s.durations}))

    def resolutions(self) -> tuple[str, ...]:
        return _ordered_union(s.resolutions for s in self.specs.values())

    def aspects(self) -> tuple[str, ...]:
        return _ordered_union(s.aspects for s in self.specs.values())

    def offering(self, *, resolution: str | None = None, aspect: str | None = None,
                 images: bool = False) -> tuple[str, ...]:
        """Models that offer this resolution / aspect / image input."""
        return tuple(m for m, s in self.specs.items()
                     if (resolution is None or resolution in s.prices)
                     and (aspect is None or aspect in s.aspects) and (not images or s.images > 0))

    def price_table(self) -> dict[tuple[str, str], float]:
        """{(model, resolution): dollars per second}, aliases included."""
        table = {(m, r): p for m, s in self.specs.items() for r, p in s.prices.items()}
        for alias, model in self.aliases.items():
            table.update({(alias, r): p for r, p in self.specs[model].prices.items()})
        return table

    def secrets(self) -> list[str]:
        return [p.api_key for p in self.providers.values() if p.api_key]

    def pointed_at(self, base_url: str) -> Catalogue:
        """Every provider sent to one place with no key: the local stand-in."""
        return replace(self, providers=MappingProxyType({
            n: replace(p, base_url=base_url, api_key=None) for n, p in self.providers.items()}))


def aspect_name(ratio: str) -> str | None:
    return ASPECT_WORDS.get(ratio)


def or_list(items: Iterable[str], word: str = "or") -> str:
    *rest, last = list(items) or [""]
    return f"{', '.join(rest)} {word} {last}" if rest else last


def _ordered_union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def builtin() -> Catalogue:
    """Sora 2 as the API document describes it: the default, with no file."""
    sora = dict(durations=(4, 8, 12, 16, 20), aspects=("16:9", "9:16"), images=1)
    return Catalogue(
        providers=MappingProxyType({BUILTIN_PROVIDER: Provider(BUILTIN_PROVIDER)}),
        specs=MappingProxyType({
            "sora-2": ModelSpec("sora-2", prices=MappingProxyType({"720p": 0.08}), **sora),
            "sora-2-pro": ModelSpec("sora-2-pro", prices=MappingProxyType(
                {"720p": 0.24, "1024p": 0.40, "1080p": 0.56}), **sora),
        }),
        aliases=MappingProxyType({"sora": "sora-2"}),
    )


BUILTIN = builtin()


# -- reading SORA_MODELS_FILE ---------------------------------------------------------------

def load(path: str | Path | None, env: Mapping[str, str] | None = None,
         prices: Mapping[tuple[str, str], float] | None = None,
         require_keys: bool = True) -> Catalogue:
    """The built-in catalogue with the file's providers and models added or changed, then
    `prices` (SORA_PRICES) applied. Raises ConfigError with one line naming file and key.
    `require_keys`: every provider's api_key_env must be set (not in stand-in mode)."""
    env = os.environ if env is None else env
    catalogue = BUILTIN
    if path:
        catalogue = _FileReader(Path(path), env, require_keys).read()
    if prices:
        catalogue = _with_prices(catalogue, prices)
    return catalogue


class _FileReader:
    def __init__(self, path: Path, env: Mapping[str, str], require_keys: bool) -> None:
        self.path, self.env, self.require_keys = path, env, require_keys

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"SORA_MODELS_FILE {self.path}: {key} {problem}.")

    def read(self) -> Catalogue:
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"SORA_MODELS_FILE {self.path}: cannot be read "
                              f"({exc.strerror or type(exc).__name__}).") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"SORA_MODELS_FILE {self.path}: is not valid TOML ({exc}).") from None
        for key in data:
            if key not in ("providers", "models"):
                raise self.fail(_key(key), "is not a known key (use [providers.NAME] or [models.NAME])")
        providers = dict(BUILTIN.providers)
        for name, table in self._tables(data, "providers").items():
            providers[name] = self._provider(name, table, providers.get(name))
        specs = dict(BUILTIN.specs)
        for name, table in self._tables(data, "models").items():
            if name.lower() in BUILTIN.aliases:
                raise self.fail(f"models.{_key(name)}", f"is an alias of "
                                f"{BUILTIN.aliases[name.lower()]}: change that model instead")
            specs[name] = self._model(name, table, specs.get(name), providers)
        self._check_fallbacks(specs)
        return Catalogue(MappingProxyType(providers), MappingProxyType(specs),
                         BUILTIN.aliases, str(self.path))

    def _tables(self, data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
        tables = data.get(section, {})
        if not isinstance(tables, dict):
            raise self.fail(section, "must be a table of tables")
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise self.fail(f"{section}.{_key(name)}", "must be a table")
            if not _NAME.match(name):
                raise self.fail(f"{section}.{_key(name)}", "is not a usable name "
                                "(letters, digits, '.', '_' and '-')")
        return tables

    def _provider(self, name: str, table: dict[str, Any], base: Provider | None) -> Provider:
        where = f"providers.{_key(name)}"
        self._known(where, table, PROVIDER_KEYS)
        if base is None:
            for key in ("base_url", "api_key_env"):
                if key not in table:
                    raise self.fail(f"{where}.{key}", "is missing")
            base = Provider(name)
        dialect = table.get("dialect", base.dialect)
        if dialect not in DIALECTS:
            raise self.fail(f"{where}.dialect", f"must be {or_list(repr(d) for d in DIALECTS)}")
        base_url = base.base_url
        if "base_url" in table:
            base_url = self._text(f"{where}.base_url", table["base_url"]).rstrip("/")
            if not base_url.startswith(("http://", "https://")):
                raise self.fail(f"{where}.base_url", "must be an http(s) URL")
        key_env = base.api_key_env
        api_key = base.api_key
        if "api_key_env" in table:
            key_env = self._text(f"{where}.api_key_env", table["api_key_env"])
            api_key = self.env.get(key_env, "").strip() or None
            if api_key is None and self.require_keys:
                raise self.fail(f"{where}.api_key_env", f"names {key_env}, which is not set "
                                "in the environment")
        return Provider(name, dialect, base_url, key_env, api_key)

    def _model(self, name: str, table: dict[str, Any], base: ModelSpec | None,
               providers: Mapping[str, Provider]) -> ModelSpec:
        where = f"models.{_key(name)}"
        self._known(where, table, MODEL_KEYS)
        if base is None:
            for key in ("durations", "prices"):
                if key not in table:
                    raise self.fail(f"{where}.{key}", "is missing")
            base = ModelSpec(name, durations=(), prices={})
        changes: dict[str, Any] = {}
        if "provider" in table:
            changes["provider"] = self._text(f"{where}.provider", table["provider"])
            if changes["provider"] not in providers:
                raise self.fail(f"{where}.provider", f"names {changes['provider']!r}, which is "
                                "not a provider (add a [providers.NAME] table)")
        if "upstream" in table:
            changes["upstream"] = self._text(f"{where}.upstream", table["upstream"])
        if "durations" in table:
            changes["durations"] = self._durations(f"{where}.durations", table["durations"])
        if "aspects" in table:
            changes["aspects"] = self._aspects(f"{where}.aspects", table["aspects"])
        if "prices" in table:
            changes["prices"] = MappingProxyType(self._prices(f"{where}.prices", table["prices"]))
        if "resolution_field" in table:
            changes["resolution_field"] = self._text(f"{where}.resolution_field",
                                                     table["resolution_field"])
        if "resolution_values" in table:
            changes["resolution_values"] = MappingProxyType(
                self._strings(f"{where}.resolution_values", table["resolution_values"]))
        if "images" in table:
            images = table["images"]
            if not isinstance(images, int) or isinstance(images, bool) or images < 0:
                raise self.fail(f"{where}.images", "must be a whole number of 0 or more")
            changes["images"] = images
        if "extra" in table:
            if not isinstance(table["extra"], dict):
                raise self.fail(f"{where}.extra", "must be a table")
            changes["extra"] = MappingProxyType(dict(table["extra"]))
        if "fallback" in table:
            changes["fallback"] = self._text(f"{where}.fallback", table["fallback"])
        for key in ("remix", "extend"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise self.fail(f"{where}.{key}", "must be true or false")
                changes[key] = table[key]
        if "smaller_rendition" in table:
            changes["smaller_rendition"] = self._query(f"{where}.smaller_rendition",
                                                       table["smaller_rendition"])
        spec = replace(base, **changes)
        if (spec.remix or spec.extend) and providers[spec.provider].dialect != "openai":
            raise self.fail(f"{where}.{'remix' if spec.remix else 'extend'}",
                            "needs a provider of the openai dialect (its /remix and "
                            "/extensions endpoints)")
        for resolution in spec.resolution_values:
            if resolution not in spec.prices:
                raise self.fail(f"{where}.resolution_values.{_key(resolution)}",
                                "is not a resolution of the model (the keys of prices)")
        if providers[spec.provider].dialect == "openai":
            for resolution in spec.prices:
                for aspect in spec.aspects:
                    if (resolution, aspect) not in OPENAI_SIZES:
                        raise self.fail(f"{where}.prices.{_key(resolution)}" if aspect in
                                        ("16:9", "9:16") else f"{where}.aspects",
                                        f"has no OpenAI size for {resolution} at {aspect} "
                                        "(the openai dialect takes 720p, 1024p, 1080p at 16:9, 9:16)")
        return spec

    def _check_fallbacks(self, specs: Mapping[str, ModelSpec]) -> None:
        for name, spec in specs.items():
            if spec.fallback is not None and spec.fallback not in specs:
                raise self.fail(f"models.{_key(name)}.fallback", f"names {spec.fallback!r}, "
                                "which is not a model")
        for name in specs:
            seen, current = [name], specs[name].fallback
            while current is not None:
                if current in seen:
                    chain = " -> ".join([*seen, current])
                    raise self.fail(f"models.{_key(name)}.fallback", f"makes a loop ({chain})")
                seen.append(current)
                current = specs[current].fallback

    # -- value checks --------------------------------------------------------------------

    def _known(self, where: str, table: dict[str, Any], keys: frozenset[str]) -> None:
        for key in table:
            if key not in keys:
                raise self.fail(f"{where}.{_key(key)}", f"is not a known key (known: "
                                f"{', '.join(sorted(keys))})")

    def _text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def _query(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not _QUERY.match(value):
            raise self.fail(key, "must be a query string such as \"variant=small\" (name=value "
                            "pairs joined by &, without the '?')")
        return value

    def _durations(self, key: str, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of seconds")
        if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
            raise self.fail(key, "must hold whole seconds above 0")
        return tuple(sorted(set(value)))

    def _aspects(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list such as [\"16:9\", \"9:16\"]")
        if not all(isinstance(a, str) and _ASPECT.match(a) for a in value):
            raise self.fail(key, "must hold ratios such as \"16:9\"")
        return tuple(dict.fromkeys(value))

    def _prices(self, key: str, value: Any) -> dict[str, float]:
        if not isinstance(value, dict) or not value:
            raise self.fail(key, "is missing: give dollars per second by resolution, "
                            "such as { \"720p\" = 0.10 }")
        prices: dict[str, float] = {}
        for resolution, price in value.items():
            if not _RESOLUTION.match(resolution):
                raise self.fail(f"{key}.{_key(resolution)}", "is not a resolution such as 720p")
            if not isinstance(price, int | float) or isinstance(price, bool) or not math.isfinite(price):
                raise self.fail(f"{key}.{_key(resolution)}", "must be dollars per second")
            if price < 0:
                raise self.fail(f"{key}.{_key(resolution)}", "must not be negative")
            prices[resolution] = float(price)
        return prices

    def _strings(self, key: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise self.fail(key, "must be a table of strings")
        return dict(value)


def _key(name: str) -> str:
    """A TOML key as written in the file: bare when it can be."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def _with_prices(catalogue: Catalogue, prices: Mapping[tuple[str, str], float]) -> Catalogue:
    """SORA_PRICES: changes the price of a resolution a model offers."""
    specs = dict(catalogue.specs)
    for (name, resolution), price in prices.items():
        model = catalogue.resolve(name)
        if model is None:
            raise ConfigError(f"SORA_PRICES names {name}, which is not a model "
                              f"({or_list(catalogue.models())}).")
        if resolution not in specs[model].prices:
            raise ConfigError(f"SORA_PRICES prices {model} at {resolution}, which it does not "
                              f"offer ({or_list(specs[model].resolutions)}).")
        if not math.isfinite(price) or price < 0:
            raise ConfigError(f"SORA_PRICES: the price of {model} at {resolution} must be zero or more.")
        specs[model] = replace(specs[model], prices=MappingProxyType(
            {**specs[model].prices, resolution: float(price)}))
    return replace(catalogue, specs=MappingProxyType(specs))
