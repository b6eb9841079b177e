"""Every validation message, and prices from the one table."""
from __future__ import annotations

import pytest

from bot.errors import InvalidRequest
from bot.models import VideoRequest
from bot.settings import Settings
from bot.validation import cost_micros, validate

SETTINGS = Settings()


@pytest.mark.parametrize("request_, message", [
    (VideoRequest("   "), "the prompt is empty"),
    (VideoRequest("x" * 4001), "The prompt is 4,001 characters; the limit is 4,000."),
    (VideoRequest("x", model="sora-3"), "Unknown model 'sora-3': use sora-2 or sora-2-pro."),
    (VideoRequest("x", duration=5), "sora-2 offers 4, 8, 12, 16 or 20 seconds."),
    (VideoRequest("x", duration="ten"), "sora-2 offers 4, 8, 12, 16 or 20 seconds."),  # type: ignore[arg-type]
    (VideoRequest("x", resolution="4k"), "Resolution must be 720p, 1024p or 1080p."),
    (VideoRequest("x", resolution="1080p"), "1080p needs sora-2-pro; sora-2 makes 720p only."),
    (VideoRequest("x", resolution="1024p"), "1024p needs sora-2-pro; sora-2 makes 720p only."),
    (VideoRequest("x", aspect="4:3"), "Aspect must be 16:9 (landscape) or 9:16 (portrait)."),
    (VideoRequest("x", image_url="ftp://host/a.png"), "The image must be an http(s) URL."),
    (VideoRequest("x", image_url="/etc/passwd"), "The image must be an http(s) URL."),
])
def test_each_mistake_gets_a_message_naming_the_fix(request_, message):
    with pytest.raises(InvalidRequest) as caught:
        validate(request_, SETTINGS)
    assert message in caught.value.user_message


def test_normalises_aliases_and_whitespace():
    valid = validate(VideoRequest("  a   cat ", model="sora", duration="8s", aspect="portrait"),  # type: ignore[arg-type]
                     SETTINGS)
    assert (valid.prompt, valid.model, valid.duration, valid.aspect) == ("a cat", "sora-2", 8, "9:16")


def test_image_to_video_may_leave_the_aspect_to_the_image():
    valid = validate(VideoRequest("x", aspect=None, image_url="https://h/a.png"), SETTINGS)
    assert valid.aspect is None
    assert validate(VideoRequest("x", aspect=None), SETTINGS).aspect == "16:9"


@pytest.mark.parametrize("model, resolution, duration, dollars", [
    ("sora-2", "720p", 4, 0.32), ("sora-2", "720p", 20, 1.60),
    ("sora-2-pro", "720p", 8, 1.92), ("sora-2-pro", "1024p", 12, 4.80),
    ("sora-2-pro", "1080p", 20, 11.20),
])
def test_cost_is_duration_times_rate(model, resolution, duration, dollars):
    request = validate(VideoRequest("x", model, duration, resolution), SETTINGS)
    assert cost_micros(request, SETTINGS) == round(dollars * 1_000_000)


def test_prices_can_be_overridden_from_the_environment():
    settings = Settings.from_env({"SORA_PRICES": "sora-2:720p=0.10", "APIMASTER_API_KEY": "k"})
    assert cost_micros(validate(VideoRequest("x", duration=8), settings), settings) == 800_000
