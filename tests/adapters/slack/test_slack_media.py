"""Public image links and downloading Slack files."""
from __future__ import annotations

import os
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.media import (
    MAX_IMAGE_BYTES,
    SCOPE_MESSAGE,
    ImageError,
    MediaLinks,
    download_slack_image,
    sniff,
)
from tests.adapters.slack.conftest import JPEG, PNG, WEBP
from tests.fakes.slack import BOT_TOKEN, FakeSlack


def test_sniff_magic_bytes() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(WEBP) == "image/webp"
    assert sniff(b"GIF89a....") is None
    assert sniff(b"<!DOCTYPE html>") is None


async def _serve(links: MediaLinks) -> tuple[web.AppRunner, str]:
    app = web.Application()
    links.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_link_serves_image_then_expires(tmp_path: Path) -> None:
    links = MediaLinks(tmp_path / "links", "http://placeholder", ttl=60)
    runner, base = await _serve(links)
    links.base_url = base
    try:
        url = links.publish(PNG)
        token = url.rsplit("/", 1)[1]
        assert url.startswith(f"{base}/media/") and len(token) >= 43
        async with aiohttp.ClientSession() as s:
            async with s.get(url) as r:
                assert r.status == 200 and r.content_type == "image/png"
                assert await r.read() == PNG
            for path in ("/media/", "/media", f"/media/{token[:-1]}", f"/media/..%2F{token}",
                         "/media/.%2E/links", f"/media/.{token}.part", "/"):
                async with s.get(base + path) as r:
                    assert r.status == 404, path
            old = time.time() - 61
            os.utime(tmp_path / "links" / token, (old, old))
            async with s.get(url) as r:
                assert r.status == 404
        links.prune()
        assert not (tmp_path / "links" / token).exists()
    finally:
        await runner.cleanup()


def test_publish_needs_public_base_url(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as err:
        MediaLinks(tmp_path, None, 60).publish(PNG)
    assert "PUBLIC_BASE_URL" in err.value.user_message


async def test_download_checks_scope_type_and_size(fake_slack: FakeSlack) -> None:
    good = fake_slack.file_object(fake_slack.add_file("cat.png", "image/png", PNG))
    login = fake_slack.file_object(fake_slack.add_file("cat.png", "image/png", PNG, login_page=True))
    text = fake_slack.file_object(fake_slack.add_file("a.png", "image/png", b"just text"))
    big = fake_slack.file_object(fake_slack.add_file("b.png", "image/png", PNG + b"\0" * 2000))
    async with aiohttp.ClientSession() as s:
        got = await download_slack_image(s, good["url_private_download"], BOT_TOKEN, api_url=fake_slack.url)
        assert got == PNG
        with pytest.raises(ImageError) as err:
            await download_slack_image(s, login["url_private"], BOT_TOKEN, api_url=fake_slack.url)
        assert err.value.user_message == SCOPE_MESSAGE and "files:read" in SCOPE_MESSAGE
        with pytest.raises(ImageError, match="not a PNG"):
            await download_slack_image(s, text["url_private"], BOT_TOKEN, api_url=fake_slack.url)
        with pytest.raises(ImageError, match="larger than"):
            await download_slack_image(s, big["url_private"], BOT_TOKEN, api_url=fake_slack.url,
                                       max_bytes=1024)
        # The bot token goes to Slack hosts only.
        with pytest.raises(ImageError, match="not stored on Slack"):
            await download_slack_image(s, "http://evil.example/x.png", BOT_TOKEN, api_url=fake_slack.url)
    assert MAX_IMAGE_BYTES >= 10 * 1024 * 1024
