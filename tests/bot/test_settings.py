from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_names_every_setting_and_parses():
    values = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    settings = Settings.from_env(values)
    assert settings.poll_first_delay == 15 and settings.user_daily_usd == 5.0
    assert settings.user_monthly_usd is None and settings.discord_guild_id is None
    source = (ROOT / "bot" / "settings.py").read_text()
    read = {name for name in values if f'"{name}"' in source}
    assert read == set(values), "every .env.example entry is read by Settings.from_env"
    used = set(re.findall(r'r\.\w+\("([A-Z_]+)"', source)) | {"APIMASTER_API_KEY", "SLACK_API_URL"}
    assert used <= set(values), f"settings missing from .env.example: {used - set(values)}"


def test_no_key_means_the_stand_in_with_its_own_ledger():
    settings = Settings.from_env({})
    assert settings.uses_stand_in and settings.db_path == Path("data/stand-in.db")
    real = Settings.from_env({"APIMASTER_API_KEY": "k"})
    assert not real.uses_stand_in and real.db_path == Path("data/sora.db")


def test_the_key_is_not_in_the_repr():
    assert "sk-secret" not in repr(Settings.from_env({"APIMASTER_API_KEY": "sk-secret"}))


@pytest.mark.parametrize("env, message", [
    ({"SORA_POLL_INTERVAL": "soon"}, "SORA_POLL_INTERVAL must be a number"),
    ({"SORA_USER_DAILY_USD": "five"}, "SORA_USER_DAILY_USD must be an amount in dollars"),
    ({"SORA_MAX_JOBS_PER_USER": "-1"}, "SORA_MAX_JOBS_PER_USER must not be negative"),
    ({"SORA_PRICES": "sora-2=0.1"}, "SORA_PRICES entry 'sora-2=0.1' must look like"),
    ({"SORA_REACTION_EXPLAIN_NO_IMAGE": "maybe"}, "must be true or false"),
    ({"SORA_ALERT_CHANNEL_DISCORD": "#admins"}, "SORA_ALERT_CHANNEL_DISCORD must be a channel id"),
])
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_slack_api_url_gets_its_trailing_slash():
    assert Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url == "http://127.0.0.1:9/api/"
