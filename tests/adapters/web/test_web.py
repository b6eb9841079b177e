"""The bot's own HTTP endpoints, in process."""
from __future__ import annotations

import socket

import aiohttp
import pytest

from adapters import web
from bot.errors import ConfigError


async def test_healthz_answers_while_the_store_does(runtime, aiohttp_client):
    client = await aiohttp_client(web.build_app(runtime))
    resp = await client.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"ok": True}
    await runtime.store.aclose()
    resp = await client.get("/healthz")
    assert resp.status == 503 and await resp.json() == {"ok": False}


async def test_serving_binds_and_a_taken_port_is_a_config_error(runtime):
    async with web.serving(web.build_app(runtime), 0, host="127.0.0.1") as port:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
        with pytest.raises(ConfigError, match=f"PORT {port} is already in use"):
            async with web.serving(web.build_app(runtime), port, host="127.0.0.1"):
                pass
    with socket.socket() as s:  # released on the way out
        s.bind(("127.0.0.1", port))
