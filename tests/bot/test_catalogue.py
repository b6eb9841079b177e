"""The model catalogue: the built-ins, SORA_MODELS_FILE, and one line for every bad file."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import catalogue
from bot.errors import ConfigError, InvalidRequest
from bot.grammar import options_help, parse_request
from bot.models import VideoRequest
from bot.settings import Settings
from bot.validation import cost_micros, validate
from tests.fakes.catalogues import KLING as KLING_MODEL

ROOT = Path(__file__).resolve().parents[2]
KLING = KLING_MODEL + "images = 0\n"


def load(tmp_path: Path, text: str, **env: str) -> catalogue.Catalogue:
    path = tmp_path / "models.toml"
    path.write_text(text)
    return catalogue.load(path, env)


def test_builtin_is_sora_2_as_documented():
    c = Settings().catalogue
    assert c.models() == ("sora-2", "sora-2-pro") and c.resolve("SORA") == "sora-2"
    pro = c.model("sora-2-pro")
    assert pro.durations == (4, 8, 12, 16, 20) and pro.aspects == ("16:9", "9:16")
    assert dict(pro.prices) == {"720p": 0.24, "1024p": 0.40, "1080p": 0.56}
    assert (pro.images, pro.fallback, pro.provider) == (1, None, "apimaster")
    assert dict(c.model("sora-2").prices) == {"720p": 0.08}
    assert Settings().prices[("sora-2-pro", "1080p")] == 0.56


def test_the_example_file_parses_and_adds_its_models(tmp_path):
    c = catalogue.load(ROOT / "models.example.toml", {"BACKUP_API_KEY": "bk-1234567"})
    assert c.models() == ("sora-2", "sora-2-pro", "kling-v3", "sora-2-backup")
    kling = c.model("kling-v3")
    assert (kling.durations, kling.resolutions, kling.fallback) == ((5, 10, 15), ("720p", "1080p"),
                                                                     "sora-2-backup")
    assert c.model("sora-2").fallback == "sora-2-backup"
    assert c.model("sora-2").prices["720p"] == 0.08  # only the keys given change
    backup = c.provider_of("sora-2-backup")
    assert (backup.dialect, backup.base_url, backup.api_key) == (
        "openai", "https://backup.example.net/v1", "bk-1234567")
    assert "bk-1234567" not in repr(c)


def test_validation_and_prices_follow_the_model(tmp_path):
    settings = Settings(catalogue=load(tmp_path, KLING))
    valid = validate(VideoRequest("a fox", "kling-v3", 10, "1080p", "1:1"), settings)
    assert cost_micros(valid, settings) == 1_100_000
    for request, message in [
        (VideoRequest("x", "kling-v3", 4), "kling-v3 offers 5, 10 or 15 seconds."),
        (VideoRequest("x", "sora-2", 5), "sora-2 offers 4, 8, 12, 16 or 20 seconds."),
        (VideoRequest("x", "kling-v3", 5, "1024p"), "1024p needs sora-2-pro; kling-v3 makes 720p or 1080p only."),
        (VideoRequest("x", "sora-2", 4, "1080p"), "1080p needs sora-2-pro or kling-v3; sora-2 makes 720p only."),
        (VideoRequest("x", "sora-2", 4, "720p", "square"), "1:1 needs kling-v3; sora-2 makes 16:9 or 9:16 only."),
        (VideoRequest("x", "kling-v3", 5, image_url="https://h/a.png"),
         "kling-v3 makes videos from text only: remove the image or use sora-2 or sora-2-pro."),
        (VideoRequest("x", "veo"), "Unknown model 'veo': use sora-2, sora-2-pro or kling-v3."),
    ]:
        with pytest.raises(InvalidRequest) as caught:
            validate(request, settings)
        assert caught.value.user_message == message


def test_the_grammar_takes_defaults_and_help_from_the_catalogue(tmp_path):
    c = load(tmp_path, KLING)
    assert "--model sora-2|sora-2-pro|kling-v3" in options_help(c)
    assert "--aspect 16:9|9:16|1:1" in options_help(c)
    req = parse_request("a fox --model kling-v3", c)
    assert (req.duration, req.resolution, req.aspect) == (5, "720p", "16:9")
    assert parse_request("a fox").duration == 4


def test_sora_prices_override_the_catalogue(tmp_path):
    settings = Settings.from_env({"SORA_PRICES": "sora-2-pro:1080p=0.60", "APIMASTER_API_KEY": "k"})
    assert settings.catalogue.model("sora-2-pro").prices["1080p"] == 0.60
    with pytest.raises(ConfigError, match="sora-2 at 1080p, which it does not offer"):
        Settings.from_env({"SORA_PRICES": "sora-2:1080p=0.10"})


def test_a_missing_provider_key_is_fine_for_the_stand_in_but_not_for_real(tmp_path):
    text = '[providers.b]\ndialect = "openai"\nbase_url = "http://h/v1"\napi_key_env = "B_KEY"\n'
    (tmp_path / "m.toml").write_text(text)
    env = {"SORA_MODELS_FILE": str(tmp_path / "m.toml")}
    assert Settings.from_env(env).catalogue.providers["b"].api_key is None
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "APIMASTER_API_KEY": "k"})
    assert caught.value.user_message == (
        f"SORA_MODELS_FILE {tmp_path / 'm.toml'}: providers.b.api_key_env names B_KEY, "
        "which is not set in the environment.")


MODEL = '[models.m]\ndurations = [5]\nprices = { "720p" = 0.1 }\n'
BACKUP = '[providers.b]\ndialect = "openai"\nbase_url = "http://h/v1"\napi_key_env = "B_KEY"\n'


@pytest.mark.parametrize("text, key, problem", [
    ("[models.m\n", None, "is not valid TOML"),
    ("[model.m]\n", "model", "is not a known key"),
    (MODEL + "colour = 1\n", "models.m.colour", "is not a known key"),
    (BACKUP + "region = 'eu'\n", "providers.b.region", "is not a known key"),
    (MODEL + 'provider = "nowhere"\n', "models.m.provider", "names 'nowhere', which is not a provider"),
    (MODEL + 'fallback = "veo"\n', "models.m.fallback", "names 'veo', which is not a model"),
    ('[models.m]\ndurations = [5]\nprices = { "720p" = -0.1 }\n', 'models.m.prices.720p',
     "must not be negative"),
    ('[models.m]\ndurations = [5]\n', "models.m.prices", "is missing"),
    ('[models.m]\ndurations = [5]\nprices = {}\n', "models.m.prices", "is missing"),
    ('[models.m]\ndurations = []\nprices = { "720p" = 0.1 }\n', "models.m.durations",
     "must be a non-empty list"),
    ('[models."sora-2"]\ndurations = []\n', 'models.sora-2.durations', "must be a non-empty list"),
    (MODEL + 'fallback = "m"\n', "models.m.fallback", "makes a loop (m -> m)"),
    (MODEL + 'fallback = "sora-2"\n[models."sora-2"]\nfallback = "m"\n', "models.sora-2.fallback",
     "makes a loop (sora-2 -> m -> sora-2)"),
    ('[providers.b]\ndialect = "grpc"\nbase_url = "http://h/v1"\napi_key_env = "B_KEY"\n',
     "providers.b.dialect", "must be 'apimaster' or 'openai'"),
    ('[providers.b]\nbase_url = "http://h/v1"\n', "providers.b.api_key_env", "is missing"),
    (BACKUP + '[models.m]\nprovider = "b"\ndurations = [4]\nprices = { "720p" = 0.1 }\n'
     'aspects = ["1:1"]\n', "models.m.aspects", "has no OpenAI size for 720p at 1:1"),
    (MODEL + 'resolution_values = { "1080p" = "pro" }\n', "models.m.resolution_values.1080p",
     "is not a resolution of the model"),
    ('[models.sora]\nfallback = "sora-2-pro"\n', "models.sora", "is an alias of sora-2"),
    (MODEL + "remix = true\n", "models.m.remix", "needs a provider of the openai dialect"),
    (MODEL + "extend = true\n", "models.m.extend", "needs a provider of the openai dialect"),
    (BACKUP + '[models.m]\nprovider = "b"\ndurations = [4]\nprices = { "720p" = 0.1 }\n'
     'remix = "yes"\n', "models.m.remix", "must be true or false"),
    (MODEL + 'smaller_rendition = "?variant=small"\n', "models.m.smaller_rendition",
     'must be a query string such as "variant=small"'),
    ('[models."sora-2"]\nsmaller_rendition = true\n', "models.sora-2.smaller_rendition",
     "must be a query string"),
    (MODEL + 'smaller_rendition = "variant=small tiny"\n', "models.m.smaller_rendition",
     "must be a query string"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(tmp_path, text, key, problem):
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        catalogue.load(path, {"B_KEY": "b-key-123456"})
    message = caught.value.user_message
    assert "\n" not in message and message.startswith(f"SORA_MODELS_FILE {path}: ")
    if key is not None:
        assert f": {key} " in message
    assert problem in message


def test_a_smaller_rendition_is_a_query_on_the_content_address(tmp_path):
    c = load(tmp_path, '[models."sora-2"]\nsmaller_rendition = "variant=small&crf=30"\n')
    assert c.model("sora-2").smaller_rendition == "variant=small&crf=30"
    assert c.model("sora-2").prices["720p"] == 0.08  # only the key given changes
    assert c.model("sora-2-pro").smaller_rendition is None  # no provider is known to offer one
    assert catalogue.BUILTIN.model("sora-2").smaller_rendition is None


def test_a_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: cannot be read"):
        Settings.from_env({"SORA_MODELS_FILE": str(tmp_path / "nope.toml")})


def test_front_ends_get_one_line_summaries_and_autocomplete(tmp_path):
    c = load(tmp_path, KLING + 'fallback = "sora-2"\n')
    assert c.model("kling-v3").summary() == (
        "kling-v3: 5, 10 or 15 s; 720p $0.07/s, 1080p $0.11/s; 16:9, 9:16, 1:1; text only; "
        "fallback sora-2")
    assert c.matching("K") == ("kling-v3",)
    assert c.matching("2") == ("sora-2", "sora-2-pro")
    assert c.matching("") == c.models() and len(c.matching("", limit=1)) == 1
    assert c.matching("pro") == ("sora-2-pro",)
