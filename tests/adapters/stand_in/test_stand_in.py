"""The stand-in speaks both submit forms and serves a real MP4."""
from __future__ import annotations

import json

import aiohttp

from adapters.stand_in import StandInState, key_fingerprint, padded_sample, running, sample_mp4
from tests.conftest import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


async def test_openai_form_then_poll_then_content(stand_in):
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(f"{stand_in.base_url}/videos",
                             json={"model": "sora-2", "prompt": "a cat", "seconds": "8",
                                   "size": "720x1280"}) as resp:
            video = await resp.json()
        assert (video["object"], video["status"], video["seconds"], video["size"]) == (
            "video", "queued", "8", "720x1280")
        stand_in.state.tasks[video["id"]].seconds = 0
        async with http.get(f"{stand_in.base_url}/videos/{video['id']}") as resp:
            assert (await resp.json())["status"] == "completed"
        async with http.get(f"{stand_in.base_url}/videos/{video['id']}/content") as resp:
            assert resp.content_type == "video/mp4" and await resp.read() == sample_mp4()


async def test_content_serves_a_smaller_rendition_and_records_it(stand_in):
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 20_000
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async with http.post(f"{stand_in.base_url}/videos/generations",
                             json={"model": "sora-2", "prompt": "a cat"}) as resp:
            task_id = (await resp.json())["data"][0]["task_id"]
        stand_in.state.tasks[task_id].seconds = 0
        content = f"{stand_in.base_url}/videos/{task_id}/content"
        bodies = {}
        for variant in ("video", "small", "thumbnail"):
            async with http.get(content, params={"variant": variant}) as resp:
                bodies[variant] = (resp.status, await resp.read())
    assert bodies["video"] == (200, padded_sample(60_000))
    assert bodies["small"] == (200, padded_sample(20_000)) and bodies["small"][1][4:8] == b"ftyp"
    assert bodies["thumbnail"][0] == 400
    assert stand_in.state.renditions() == [task_id]


async def test_wrong_key_gets_401_and_control_switches_work(stand_in):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stand_in.base_url}/v1/videos/generations", json={"prompt": "x"},
                             headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
        origin = stand_in.base_url.removesuffix("/v1")
        async with http.post(f"{origin}/_control", json={"video_bytes": 100_000,
                                                         "fail": ["poll", "500", 2]}) as resp:
            assert resp.status == 200
    assert stand_in.state.video() == padded_sample(100_000) and len(stand_in.state.video()) == 100_000
    assert stand_in.state.failures["poll"] == ["500", "500"]


async def test_catalogue_rules_and_the_gone_switch(stand_in):
    origin = stand_in.base_url.removesuffix("/v1")
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async def submit(body: dict) -> tuple[int, dict]:
            async with http.post(f"{stand_in.base_url}/videos/generations", json=body) as resp:
                return resp.status, await resp.json()

        status, answer = await submit({"model": "sora-2", "prompt": "x", "duration": 5})
        assert (status, answer["message"]) == (400, "duration must be one of [4, 8, 12, 16, 20]")
        status, answer = await submit({"model": "sora-2", "prompt": "x", "resolution": "1080p"})
        assert status == 400 and "resolution must be one of ['720p']" in answer["message"]
        assert (await submit({"model": "veo-3", "prompt": "x"}))[0] == 404
        assert (await submit({"model": "sora-2", "prompt": "x", "duration": 8}))[0] == 200
        async with http.post(f"{origin}/_control", json={"gone": ["sora-2"]}) as resp:
            assert resp.status == 200
        status, answer = await submit({"model": "sora-2", "prompt": "x", "duration": 8})
        assert (status, answer["error"]["code"]) == (404, "model_not_found")
        async with http.get(f"{origin}/_requests") as resp:
            seen = await resp.json()
    assert len(seen) == 5 and {r["key"] for r in seen} == {key_fingerprint(f"Bearer {TEST_KEY}")}
    assert TEST_KEY not in str(seen)


async def test_a_remembering_stand_in_knows_tasks_made_before_a_restart(tmp_path):
    path = tmp_path / "stand-in-tasks.json"
    async with running(StandInState.remembering(path, job_seconds=0.0)) as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}/videos/generations", json={"prompt": "a fox"}) as resp:
            task_id = (await resp.json())["data"][0]["task_id"]
    assert path.exists()
    async with running(StandInState.remembering(path)) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/videos/{task_id}") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "completed"
        async with http.post(f"{base}/videos/generations", json={"prompt": "a hare"}) as resp:
            second = (await resp.json())["data"][0]["task_id"]
    assert {t["id"] for t in json.loads(path.read_text())} == {task_id, second}


async def test_an_unreadable_task_file_starts_afresh(tmp_path):
    path = tmp_path / "stand-in-tasks.json"
    path.write_text("{not json")
    assert StandInState.remembering(path).tasks == {}
