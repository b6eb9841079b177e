from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _example() -> dict[str, str]:
    """The settings .env.example lists, commented out: `# NAME=default`."""
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^# ?([A-Z][A-Z0-9_]+)=(.*)$", text, flags=re.MULTILINE))


def test_env_example_names_every_setting():
    values = _example()
    source = (ROOT / "bot" / "settings.py").read_text()
    read = {name for name in values if f'"{name}"' in source}
    assert read == set(values), "every .env.example entry is read by Settings.from_env"
    used = set(re.findall(r'r\.\w+\("([A-Z_]+)"', source)) | {"APIMASTER_API_KEY", "SLACK_API_URL"}
    assert len(used) > 30 and used <= set(values), f"missing from .env.example: {used - set(values)}"


def test_copying_env_example_changes_nothing():
    assert dotenv_values(ROOT / ".env.example") == {}, "every setting in .env.example is commented out"
    values = _example()
    keyed = {**values, "APIMASTER_API_KEY": "k"}
    # The defaults written there are the real ones: uncommenting them all changes nothing either,
    assert Settings.from_env(keyed) == Settings.from_env({"APIMASTER_API_KEY": "k"})
    # and without a key a .env holding them keeps the stand-in's own ledger and fast polling.
    assert Settings.from_env(values, from_file=set(values)) == Settings.from_env({})


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
    ({"SORA_REACTION_MODEL": "sora-3"}, "SORA_REACTION_MODEL 'sora-3' is not a model: use sora-2 or"),
    ({"SORA_ALERT_CHANNEL_DISCORD": "#admins"}, "SORA_ALERT_CHANNEL_DISCORD must be a channel id"),
])
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_slack_api_url_gets_its_trailing_slash():
    assert Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize("env, message", [
    ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'verbose'"),
    ({"APIMASTER_BASE_URL": "not-a-url"}, "APIMASTER_BASE_URL must be a URL starting with http:// or https://"),
    ({"PUBLIC_BASE_URL": "ftp://example.com"}, "PUBLIC_BASE_URL must be a URL"),
    ({"SLACK_API_URL": "https://"}, "SLACK_API_URL must be a URL"),
    ({"DISCORD_API_BASE": "discord.com/api"}, "DISCORD_API_BASE must be a URL"),
    ({"DISCORD_GATEWAY_URL": "https://gateway.discord.gg"}, "DISCORD_GATEWAY_URL must be a URL starting with ws:// or wss://"),
    ({"APIMASTER_BASE_URL": "http://host:99999/v1"}, "APIMASTER_BASE_URL must be a URL"),
    ({"PORT": "0"}, "PORT must be a port number from 1 to 65535, not 0"),
    ({"PORT": "70000"}, "PORT must be a port number from 1 to 65535"),
    ({"SORA_PRICES": "sora-2:720p=-0.10"}, "a price must be more than \\$0"),
    ({"SORA_PRICES": "sora-2:720p=0"}, "a price must be more than \\$0"),
    ({"SORA_PRICES": "sora-2:720p=nan"}, "a price must be more than \\$0"),
    ({"SORA_USER_DAILY_USD": "inf"}, "SORA_USER_DAILY_USD must be a finite number"),
    ({"SORA_TEAM_MONTHLY_USD": "nan"}, "SORA_TEAM_MONTHLY_USD must be a finite number"),
    ({"SORA_JOB_TIMEOUT": "inf"}, "SORA_JOB_TIMEOUT must be a finite number"),
])
def test_each_bad_setting_is_refused_naming_it(env, message):
    with pytest.raises(ConfigError, match=message) as caught:
        Settings.from_env(env)
    assert "\n" not in caught.value.user_message


def test_good_urls_and_levels_pass():
    s = Settings.from_env({"LOG_LEVEL": "debug", "APIMASTER_BASE_URL": "http://127.0.0.1:8123/v1/",
                           "DISCORD_GATEWAY_URL": "wss://gateway.discord.gg", "PORT": "8080"})
    assert (s.log_level, s.base_url, s.port) == ("DEBUG", "http://127.0.0.1:8123/v1", 8080)


def test_no_key_mode_ignores_the_real_services_db_and_timings_from_dot_env():
    from_file = {"SORA_DB": "data/sora.db", "SORA_POLL_INTERVAL": "4", "SORA_POLL_FIRST_DELAY": "15"}
    s = Settings.from_env(from_file, from_file=set(from_file))
    assert (s.db_path, s.poll_first_delay, s.poll_interval) == (Path("data/stand-in.db"), 1.0, 1.0)
    explicit = Settings.from_env(from_file)  # the same values from the real environment win
    assert (explicit.db_path, explicit.poll_interval) == (Path("data/sora.db"), 4.0)
    keyed = Settings.from_env({**from_file, "APIMASTER_API_KEY": "k"}, from_file=set(from_file))
    assert (keyed.db_path, keyed.poll_interval) == (Path("data/sora.db"), 4.0)


def test_a_postgresql_sora_db_is_a_url_kept_out_of_repr_and_scrubbed():
    url = "postgresql://bot:pg-s3cret@db.internal:5432/sora"
    s = Settings.from_env({"APIMASTER_API_KEY": "k", "SORA_DB": url})
    assert s.db_url == url and s.database == url
    assert "pg-s3cret" not in repr(s) and "pg-s3cret" in s.secrets()
    assert Settings.from_env({"APIMASTER_API_KEY": "k"}).database == Path("data/sora.db")


def test_a_bad_database_url_is_refused_without_echoing_it():
    with pytest.raises(ConfigError, match="SORA_DB must be a file path or a URL") as caught:
        Settings.from_env({"APIMASTER_API_KEY": "k", "SORA_DB": "postgresql://bot:pw@:99999/x"})
    assert "pw" not in caught.value.user_message


@pytest.mark.parametrize("env", [
    {"DISCORD_SHARD_IDS": "0,1"},                              # no count
    {"DISCORD_SHARD_IDS": "4", "DISCORD_SHARD_COUNT": "4"},    # ids count from 0
    {"DISCORD_SHARD_IDS": "a", "DISCORD_SHARD_COUNT": "4"},
    {"DISCORD_SHARD_COUNT": "0"},
])
def test_bad_discord_shards_are_refused(env):
    with pytest.raises(ConfigError, match="DISCORD_SHARD"):
        Settings.from_env(env)


def test_the_sign_in_key_sits_beside_sqlite_or_where_sora_admin_key_file_says():
    from bot.admin_links import key_path

    assert key_path(Settings.from_env({"SORA_DB": "/srv/sora.db"})) == Path("/srv/sora.db.admin-key")
    shared = Settings.from_env({"SORA_DB": "postgresql://bot@db/sora",
                                "SORA_ADMIN_KEY_FILE": "/etc/sora/admin-key"})
    assert key_path(shared) == Path("/etc/sora/admin-key")
