"""Both provider dialects over real HTTP on 127.0.0.1: the exact bodies sent, and each key
sent to its own origin only."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters import stand_in as stand_in_app
from adapters.stand_in import sample_mp4
from bot import catalogue, logs
from bot.apimaster import ApiMasterClient
from bot.errors import ModelUnavailable, UpstreamRejected
from bot.models import VideoRequest
from bot.providers import ProviderClients
from bot.settings import Settings
from tests.conftest import TEST_KEY, StandIn

BACKUP_KEY = "bk-backup-SECRET-91aa"
MODELS = """
[providers.backup]
dialect = "openai"
base_url = "{backup}"
api_key_env = "BACKUP_API_KEY"

[models."kling-v3"]
durations = [5, 10, 15]
aspects = ["16:9", "9:16", "1:1"]
prices = {{ "720p" = 0.07, "1080p" = 0.11 }}
resolution_field = "mode"
resolution_values = {{ "720p" = "std", "1080p" = "pro" }}
extra = {{ watermark = false, model = "ignored" }}

[models."sora-2-backup"]
provider = "backup"
upstream = "sora-2"
durations = [4, 8, 12]
prices = {{ "720p" = 0.10, "1080p" = 0.30 }}
"""


@pytest.fixture
async def backup() -> AsyncIterator[StandIn]:
    state = stand_in_app.StandInState(api_key=BACKUP_KEY, job_seconds=0.0)
    async with stand_in_app.running(state) as base_url:
        yield StandIn(base_url, state)


def with_models(settings: Settings, tmp_path: Path, backup_url: str) -> Settings:
    path = tmp_path / "models.toml"
    path.write_text(MODELS.format(backup=backup_url))
    models = catalogue.load(path, {"BACKUP_API_KEY": BACKUP_KEY})
    return settings.with_(catalogue=models)


@pytest.fixture
async def clients(settings, tmp_path, stand_in, backup) -> AsyncIterator[ProviderClients]:
    s = with_models(settings, tmp_path, backup.base_url)
    stand_in.state.catalogue = backup.state.catalogue = s.catalogue
    async with aiohttp.ClientSession() as session:
        yield ProviderClients(session, s)


def keys_seen(state: stand_in_app.StandInState) -> set[str | None]:
    return {r.authorization for r in state.requests}


async def test_apimaster_dialect_sends_the_mode_and_the_extra_fields(clients, stand_in, backup):
    request = VideoRequest("a fox", "kling-v3", 10, "1080p", "1:1", "https://example.test/fox.png")
    task_id = await clients.for_model("kling-v3").submit(request)
    assert task_id.startswith("task_")
    [sent] = stand_in.state.requests
    assert (sent.method, sent.path) == ("POST", "/v1/v1/videos/generations")
    assert sent.body == {"model": "kling-v3", "prompt": "a fox", "duration": 10, "mode": "pro",
                         "aspect_ratio": "1:1", "image_urls": ["https://example.test/fox.png"],
                         "watermark": False}
    assert keys_seen(stand_in.state) == {f"Bearer {TEST_KEY}"} and backup.state.requests == []


async def test_openai_dialect_submits_polls_and_downloads_with_its_own_key(
        clients, stand_in, backup, tmp_path):
    client = clients.for_model("sora-2-backup")
    request = VideoRequest("a fox", "sora-2-backup", 8, "1080p", "9:16", "https://example.test/fox.png")
    task_id = await client.submit(request)
    assert backup.state.requests[0].body == {
        "model": "sora-2", "prompt": "a fox", "seconds": "8", "size": "1080x1920",
        "input_reference": "https://example.test/fox.png"}
    state = await client.status(task_id)
    assert state.status == "completed"
    await client.download(task_id, None, tmp_path / "fox.mp4")  # no url: the /content path
    assert (tmp_path / "fox.mp4").read_bytes() == sample_mp4()
    assert [(r.method, r.path) for r in backup.state.requests] == [
        ("POST", "/v1/v1/videos"), ("GET", f"/v1/v1/videos/{task_id}"),
        ("GET", f"/v1/v1/videos/{task_id}/content")]
    assert keys_seen(backup.state) == {f"Bearer {BACKUP_KEY}"}
    assert stand_in.state.requests == []  # the APIMaster origin heard nothing, no key went there


async def test_openai_size_follows_resolution_and_aspect(clients, backup):
    client = clients.for_model("sora-2-backup")
    for aspect, size in (("16:9", "1280x720"), ("9:16", "720x1280"), (None, "1280x720")):
        await client.submit(VideoRequest("x", "sora-2-backup", 4, "720p", aspect))
        assert backup.state.requests[-1].body["size"] == size


async def test_no_key_goes_to_a_download_host_or_another_provider(clients, stand_in, backup, tmp_path):
    elsewhere = stand_in_app.StandInState()
    async with stand_in_app.running(elsewhere) as other_url:
        backup.state.download_base = other_url.removesuffix("/v1")
        client = clients.for_model("sora-2-backup")
        task_id = await client.submit(VideoRequest("x", "sora-2-backup", 4, "720p", "16:9"))
        url = (await client.status(task_id)).url
        assert url is not None and url.startswith(backup.state.download_base)
        await client.download(task_id, url, tmp_path / "x.mp4")  # elsewhere 404s; then /content
    assert [r.path for r in elsewhere.requests] == [f"/download/{task_id}.mp4"]
    assert keys_seen(elsewhere) == {None}
    assert keys_seen(backup.state) == {f"Bearer {BACKUP_KEY}"} and stand_in.state.requests == []


async def test_a_model_gone_upstream_is_model_unavailable_after_one_request(clients, stand_in):
    stand_in.state.gone = ["sora-2"]
    with pytest.raises(ModelUnavailable) as caught:
        await clients.for_model("sora-2").submit(VideoRequest("x"))
    assert caught.value.model == "sora-2" and "fallback" in caught.value.user_message
    assert len(stand_in.state.submits()) == 1


async def test_the_stand_in_enforces_the_catalogue_rules(clients, stand_in):
    with pytest.raises(UpstreamRejected, match="duration must be one of \\[5, 10, 15\\]"):
        await clients.for_model("kling-v3").submit(VideoRequest("x", "kling-v3", 4, "720p"))
    with pytest.raises(UpstreamRejected, match="aspect_ratio must be one of"):
        await ApiMasterClient(clients.default.session, clients.settings).submit(
            VideoRequest("x", "sora-2", 4, "720p", "1:1"))


async def _model_not_found_in_a_200_body(request: web.Request) -> web.Response:
    return web.json_response({"code": "model_not_found", "message": "no such model"})


async def test_model_not_found_in_a_200_body_counts_too(aiohttp_server, settings):
    app = web.Application()
    app.router.add_post("/v1/v1/videos/generations", _model_not_found_in_a_200_body)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        client = ApiMasterClient(session, settings.with_(base_url=str(server.make_url("/v1"))))
        with pytest.raises(ModelUnavailable):
            await client.submit(VideoRequest("x"))


def test_every_provider_key_is_redacted_from_the_logs(tmp_path, capsys):
    settings = with_models(Settings(api_key=TEST_KEY), tmp_path, "http://127.0.0.1:9/v1")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.configure(settings, "INFO")
        logging.getLogger("test").warning("keys %s and %s", TEST_KEY, BACKUP_KEY)
    finally:
        root.handlers[:], root.level = handlers, level
    err = capsys.readouterr().err
    assert "keys *** and ***" in err and BACKUP_KEY not in err and TEST_KEY not in err
