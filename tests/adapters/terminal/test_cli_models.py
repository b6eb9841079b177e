"""Issue 8's "Done when", as a user runs it: real `sora-bot` processes, stand-ins in their
own processes (one APIMaster-style, one speaking OpenAI's form), a models file."""
from __future__ import annotations

import contextlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.stand_in import key_fingerprint, sample_mp4
from tests.adapters.terminal.test_cli import KEY, ROOT, FakeApi, _env, _start_fake_api, sora
from tests.fakes.catalogues import BACKUP

BACKUP_KEY = "bk-cli-SECRET-7d21"


@contextlib.contextmanager
def fake_process(tmp_path: Path, key: str, **env: str) -> Iterator[FakeApi]:
    """`sora-bot fake-api` in its own process, serving the catalogue its env names."""
    yield from _start_fake_api(tmp_path, key, 0.3, **env)


def received(api: FakeApi) -> list[dict]:
    with urllib.request.urlopen(api.control.replace("/_control", "/_requests"), timeout=5) as resp:
        return json.loads(resp.read())


def no_secret_anywhere(tmp_path: Path, *outputs: str) -> None:
    stored = (tmp_path / "sora.db").read_bytes()
    for wal in tmp_path.glob("sora.db-wal"):
        stored += wal.read_bytes()
    for secret in (KEY, BACKUP_KEY):
        assert secret.encode() not in stored
        assert all(secret not in text for text in outputs)


def test_kling_from_the_example_file_sends_mode_pro_and_charges_its_price(tmp_path):
    shutil.copy(ROOT / "models.example.toml", tmp_path / "models.toml")
    files = {"SORA_MODELS_FILE": "models.toml", "BACKUP_API_KEY": BACKUP_KEY}
    with fake_process(tmp_path, KEY, **files) as api:
        env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=api.base_url, **files)
        done = sora(tmp_path, "generate", "a fox", "--model", "kling-v3", "--duration", "10",
                    "--resolution", "1080p", "--aspect", "1:1", "--out", "fox.mp4", env=env)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "fox.mp4").read_bytes() == sample_mp4()
        [submit] = [r for r in received(api) if r["method"] == "POST"]
    assert submit["path"] == "/v1/v1/videos/generations"
    assert submit["body"] == {"model": "kling-v3", "prompt": "a fox", "duration": 10, "mode": "pro",
                              "aspect_ratio": "1:1"}
    assert submit["key"] == key_fingerprint(f"Bearer {KEY}")
    usage = json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)
    assert (usage[0]["spent_usd"], usage[0]["reserved_usd"]) == (1.10, 0)
    [job] = json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)
    assert (job["model"], job["duration"], job["resolution"], job["cost_usd"]) == ("kling-v3", 10, "1080p", 1.10)
    no_secret_anywhere(tmp_path, done.stdout, done.stderr)


@pytest.fixture
def two_providers(tmp_path: Path) -> Iterator[tuple[FakeApi, FakeApi, dict[str, str]]]:
    """APIMaster answering 404 model_not_found for sora-2, and an openai-dialect backup."""
    with contextlib.ExitStack() as stack:
        backup = stack.enter_context(fake_process(tmp_path, BACKUP_KEY))
        (tmp_path / "models.toml").write_text(BACKUP.format(backup=backup.base_url))
        files = {"SORA_MODELS_FILE": "models.toml", "BACKUP_API_KEY": BACKUP_KEY}
        main = stack.enter_context(fake_process(tmp_path, KEY, **files))
        main.set(gone=["sora-2"])  # the backup serves sora-2 as built in, in OpenAI's form
        env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=main.base_url, **files)
        yield main, backup, env


def test_a_gone_model_is_made_by_the_backup_at_its_price(tmp_path, two_providers):
    main, backup, env = two_providers
    done = sora(tmp_path, "generate", "a fox", "--model", "sora-2", "--duration", "8",
                "--out", "fox.mp4", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "fox.mp4").read_bytes() == sample_mp4()
    assert "made by sora-2-backup (sora-2 is not available upstream), $0.80" in done.stderr
    [refused] = received(main)
    assert (refused["method"], refused["body"]["model"]) == ("POST", "sora-2")
    assert refused["key"] == key_fingerprint(f"Bearer {KEY}")
    posts = [r for r in received(backup) if r["method"] == "POST"]
    assert [(p["path"], p["body"]) for p in posts] == [
        ("/v1/v1/videos", {"model": "sora-2", "prompt": "a fox", "seconds": "8", "size": "1280x720"})]
    assert {r["key"] for r in received(backup)} == {key_fingerprint(f"Bearer {BACKUP_KEY}")}
    [job] = json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)
    assert (job["model"], job["requested_model"], job["cost_usd"], job["status"]) == (
        "sora-2-backup", "sora-2", 0.80, "delivered")
    usage = json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)
    assert (usage[0]["spent_usd"], usage[0]["reserved_usd"]) == (0.80, 0)
    no_secret_anywhere(tmp_path, done.stdout, done.stderr)


def test_a_fallback_over_budget_fails_and_releases_everything(tmp_path, two_providers):
    main, backup, env = two_providers
    env["SORA_USER_DAILY_USD"] = "0.70"  # $0.64 at sora-2 fits; $0.80 at the backup does not
    done = sora(tmp_path, "generate", "a fox", "--duration", "8", env=env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert "sora-2 is not available" in last and "costs more ($0.80)" in last
    assert received(backup) == []
    usage = json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)
    assert (usage[0]["spent_usd"], usage[0]["reserved_usd"]) == (0, 0)
    assert json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)[0]["status"] == "failed"


def test_models_lists_every_model_and_a_bad_file_stops_every_command(tmp_path, two_providers):
    main, backup, env = two_providers
    listed = sora(tmp_path, "models", env=env)
    assert listed.returncode == 0
    assert "sora-2-backup\n  provider:    backup (openai dialect, sent as sora-2)" in listed.stdout
    assert "  resolutions: 720p $0.10/s" in listed.stdout and "  fallback:    sora-2-backup" in listed.stdout
    assert "sora-2-backup" in sora(tmp_path, "generate", "--help", env=env).stdout
    (tmp_path / "models.toml").write_text('[models."sora-2"]\nfallback = "veo"\n')
    for command in (["generate", "a fox"], ["models"], ["jobs"]):
        done = sora(tmp_path, *command, env=env)
        assert done.returncode == 2
        assert done.stderr.strip() == (
            "error: SORA_MODELS_FILE models.toml: models.sora-2.fallback names 'veo', "
            "which is not a model.")
    assert received(main) == [] and received(backup) == []


def test_with_no_key_any_catalogue_model_runs_on_the_local_stand_in(tmp_path):
    shutil.copy(ROOT / "models.example.toml", tmp_path / "models.toml")
    env = _env(tmp_path, SORA_MODELS_FILE="models.toml")  # no APIMaster or backup key at all
    done = sora(tmp_path, "generate", "a fox", "--model", "kling-v3", "--out", "fox.mp4", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "fox.mp4").read_bytes() == sample_mp4()
    [job] = json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)
    assert (job["model"], job["duration"], job["resolution"], job["cost_usd"]) == ("kling-v3", 5, "720p", 0.35)
    backup = sora(tmp_path, "generate", "a fox", "--model", "sora-2-backup", "--duration", "12", env=env)
    assert backup.returncode == 0, backup.stderr  # the openai dialect, on the stand-in too
    refused = sora(tmp_path, "generate", "a fox", "--model", "kling-v3", "--duration", "4", env=env)
    assert refused.returncode == 2 and refused.stderr.strip() == "error: kling-v3 offers 5, 10 or 15 seconds."


def test_models_names_a_smaller_rendition(tmp_path, capsys):
    from adapters.terminal import cli
    from bot import catalogue
    from tests.fakes.catalogues import SMALLER_RENDITION

    (tmp_path / "models.toml").write_text(SMALLER_RENDITION)
    models = catalogue.load(tmp_path / "models.toml", {})
    cli.models(models)
    assert "  smaller rendition: {base}/v1/videos/{id}/content?variant=small\n" in capsys.readouterr().out
    cli.models(models, as_json=True)
    listed = {m["model"]: m["smaller_rendition"] for m in json.loads(capsys.readouterr().out)}
    assert listed == {"sora-2": "variant=small", "sora-2-pro": None}
