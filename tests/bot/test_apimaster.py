"""The APIMaster client against the stand-in on 127.0.0.1: errors, retries, downloads."""
from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.apimaster import ApiMasterClient
from bot.errors import (
    AuthError, BalanceError, DownloadError, RateLimited, UpstreamError, UpstreamRejected,
)
from bot.models import VideoRequest
from bot.fetching import VideoTooLarge, may_fetch
from yarl import URL
from adapters.stand_in import padded_sample, sample_mp4
from tests.conftest import TEST_KEY

REQUEST = VideoRequest("a waterfall forming a rainbow")


@pytest.fixture
async def client(settings) -> AsyncIterator[ApiMasterClient]:
    async with aiohttp.ClientSession() as session:
        yield ApiMasterClient(session, settings)


async def test_submit_sends_the_documented_body_to_the_double_v1_path(client, stand_in):
    task_id = await client.submit(VideoRequest("a cat", "sora-2-pro", 8, "1080p", "9:16",
                                               "https://example.test/cat.png"))
    assert task_id.startswith("task_")
    sent = stand_in.state.requests[-1]
    assert sent.path == "/v1/v1/videos/generations"
    assert sent.authorization == f"Bearer {TEST_KEY}"
    assert sent.body == {"model": "sora-2-pro", "prompt": "a cat", "duration": 8,
                         "resolution": "1080p", "aspect_ratio": "9:16",
                         "image_urls": ["https://example.test/cat.png"]}


@pytest.mark.parametrize("kind, error", [
    ("400", UpstreamRejected), ("401", AuthError), ("402", BalanceError),
    ("body-402", BalanceError),
])
async def test_submit_errors_are_typed_and_not_retried(client, stand_in, kind, error):
    stand_in.state.fail("submit", kind)
    with pytest.raises(error):
        await client.submit(REQUEST)
    assert len(stand_in.state.submits()) == 1


@pytest.mark.parametrize("kind", ["500", "502", "drop"])
async def test_submit_is_never_resent_when_a_task_may_exist(client, stand_in, kind):
    stand_in.state.fail("submit", kind)
    with pytest.raises(UpstreamError):
        await client.submit(REQUEST)
    assert len(stand_in.state.submits()) == 1


async def test_submit_retries_429_honouring_retry_after(client, stand_in):
    stand_in.state.retry_after = 0.3
    stand_in.state.fail("submit", "429", times=2)
    started = time.monotonic()
    task_id = await client.submit(REQUEST)
    assert time.monotonic() - started >= 0.6  # two waits of at least Retry-After
    assert len(stand_in.state.submits()) == 3
    assert task_id in stand_in.state.tasks


async def test_body_code_429_is_a_rate_limit(client, stand_in):
    stand_in.state.fail("submit", "body-429", times=10)
    with pytest.raises(RateLimited):
        await client.submit(REQUEST)
    assert len(stand_in.state.submits()) == client.settings.max_retries + 1


async def test_submit_retries_a_refused_connection(settings, unused_tcp_port_factory):
    port = unused_tcp_port_factory()
    dead = settings.with_(base_url=f"http://127.0.0.1:{port}/v1", max_retries=2)
    async with aiohttp.ClientSession() as session:
        client = ApiMasterClient(session, dead)
        with pytest.raises(UpstreamError, match="could not be reached"):
            await client.submit(REQUEST)
        assert client.requests_sent == 3


@pytest.mark.parametrize("kind", ["429", "500", "502"])
async def test_polls_retry_transient_errors(client, stand_in, kind):
    task_id = await client.submit(REQUEST)
    stand_in.state.fail("poll", kind, times=2)
    state = await client.status(task_id)
    assert state.status in ("queued", "in_progress", "completed")


async def test_poll_accepts_upper_case_and_missing_fields(client, stand_in):
    stand_in.state.upper_case = True
    task_id = await client.submit(REQUEST)
    assert (await client.status(task_id)).status == "queued"
    stand_in.state.tasks[task_id].seconds = 0
    done = await client.status(task_id)
    assert done.status == "completed" and done.url


async def test_download_streams_and_checks_length(client, stand_in, tmp_path):
    stand_in.state.video_bytes = 3_000_000
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    dest = tmp_path / "v.mp4"
    await client.download(task_id, (await client.status(task_id)).url, dest)
    assert dest.read_bytes() == padded_sample(3_000_000)
    assert dest.read_bytes()[4:8] == b"ftyp"


async def test_a_smaller_rendition_streams_from_the_content_address_within_its_cap(
        client, stand_in, tmp_path):
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 20_000
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    dest = tmp_path / "small.mp4"
    await client.download_rendition(task_id, "variant=small", dest, cap=25_000)
    assert dest.read_bytes() == padded_sample(20_000)
    sent = stand_in.state.requests[-1]
    assert sent.path.endswith(f"/videos/{task_id}/content") and sent.query == "variant=small"
    assert sent.authorization == f"Bearer {TEST_KEY}"
    # One over its cap is refused by its declared length, once: no retry can make it fit.
    with pytest.raises(VideoTooLarge):
        await client.download_rendition(task_id, "variant=small", tmp_path / "x.mp4", cap=19_999)
    assert stand_in.state.renditions() == [task_id, task_id]
    assert list(tmp_path.iterdir()) == [dest]


async def test_truncated_download_is_retried_and_never_left_half_written(client, stand_in, tmp_path):
    stand_in.state.video_bytes = 2_000_000
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    stand_in.state.fail("download", "truncate", times=1)
    dest = tmp_path / "v.mp4"
    await client.download(task_id, None, dest)
    assert dest.stat().st_size == 2_000_000
    assert list(tmp_path.iterdir()) == [dest]


async def test_download_that_always_truncates_fails_cleanly(client, stand_in, tmp_path):
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    stand_in.state.fail("download", "truncate", times=100)
    with pytest.raises(DownloadError):
        await client.download(task_id, None, tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url_path", ["/videos/{id}/content", "/v1/v1/videos/{id}/content"])
async def test_download_mends_a_missing_or_doubled_v1(client, stand_in, tmp_path, url_path):
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    origin = stand_in.base_url.removesuffix("/v1")
    await client.download(task_id, origin + url_path.format(id=task_id), tmp_path / "v.mp4")
    assert (tmp_path / "v.mp4").read_bytes() == sample_mp4()
    assert stand_in.state.requests[-1].path == f"/v1/v1/videos/{task_id}/content"


async def test_download_falls_back_to_content_endpoint(client, stand_in, tmp_path):
    stand_in.state.omit_url = True
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    state = await client.status(task_id)
    assert state.url is None
    await client.download(task_id, state.url, tmp_path / "v.mp4")
    assert (tmp_path / "v.mp4").read_bytes() == sample_mp4()


async def _foreign_host(stand_in, aiohttp_server, seen: list[str | None]) -> None:
    """Completed tasks' links point at another host, `localhost` (an internal address)."""
    async def serve(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=sample_mp4(), content_type="video/mp4")

    foreign = web.Application()
    foreign.router.add_get("/download/{name}", serve)
    server = await aiohttp_server(foreign, host="localhost")  # another origin than 127.0.0.1
    stand_in.state.download_base = str(server.make_url("")).rstrip("/")


async def test_key_is_not_sent_to_a_foreign_download_host(settings, stand_in, tmp_path, aiohttp_server):
    seen: list[str | None] = []
    await _foreign_host(stand_in, aiohttp_server, seen)
    async with aiohttp.ClientSession() as session:
        # Listed in SORA_DOWNLOAD_HOSTS, so fetched although it is internal; without the key.
        client = ApiMasterClient(session, settings.with_(download_hosts=frozenset({"localhost"})))
        task_id = await client.submit(REQUEST)
        stand_in.state.tasks[task_id].seconds = 0
        state = await client.status(task_id)
        assert state.url.startswith("http://localhost:")
        await client.download(task_id, state.url, tmp_path / "v.mp4")
    assert seen == [None]
    assert (tmp_path / "v.mp4").read_bytes() == sample_mp4()


async def test_a_link_to_an_internal_host_is_not_fetched(client, stand_in, tmp_path, aiohttp_server):
    """A provider naming an internal address of another host gets the /content path asked
    instead: the bot fetches no one's internal service on a provider's word."""
    seen: list[str | None] = []
    await _foreign_host(stand_in, aiohttp_server, seen)
    task_id = await client.submit(REQUEST)
    stand_in.state.tasks[task_id].seconds = 0
    state = await client.status(task_id)
    await client.download(task_id, state.url, tmp_path / "v.mp4")
    assert seen == []
    assert stand_in.state.requests[-1].path.endswith(f"/videos/{task_id}/content")
    assert (tmp_path / "v.mp4").read_bytes() == sample_mp4()


async def test_may_fetch_public_hosts_only_after_resolution() -> None:
    provider = URL("https://api.example.net/v1")
    assert await may_fetch("https://api.example.net:8443/x.mp4", provider, ())
    assert await may_fetch("http://files.internal/x.mp4", provider, {"files.internal"})
    assert not await may_fetch("http://169.254.169.254/latest/meta-data", provider, ())
    assert not await may_fetch("http://10.1.2.3/x.mp4", provider, ())
    assert not await may_fetch("http://[::1]:8080/x.mp4", provider, ())
    assert not await may_fetch("http://localhost/x.mp4", provider, ())
    assert not await may_fetch("file:///etc/passwd", provider, ())
    assert await may_fetch("http://93.184.215.14/x.mp4", provider, ())  # a public address literal


async def test_the_key_never_reaches_logs(client, stand_in, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for endpoint, kind in (("submit", "401"), ("poll", "500"), ("download", "truncate")):
        stand_in.state.fail(endpoint, kind, times=1)
    with pytest.raises(AuthError) as caught:
        await client.submit(REQUEST)
    task_id = await client.submit(REQUEST)
    await client.status(task_id)
    stand_in.state.tasks[task_id].seconds = 0
    await client.download(task_id, None, tmp_path / "v.mp4")
    assert TEST_KEY not in caplog.text
    assert TEST_KEY not in str(caught.value) + caught.value.user_message



async def test_downloads_do_not_wait_for_the_api_pacer(settings, stand_in, tmp_path):
    """The pacer protects the API from polls; finished videos download at once."""
    async with aiohttp.ClientSession() as session:
        client = ApiMasterClient(session, settings.with_(api_requests_per_second=0.5))
        task_id = await client.submit(REQUEST)  # takes the one token there is
        stand_in.state.tasks[task_id].seconds = 0
        tokens = client.limiter._tokens
        for n in range(3):
            await client.download(task_id, None, tmp_path / f"v{n}.mp4")
        assert client.limiter._tokens >= tokens  # no download spent a token
