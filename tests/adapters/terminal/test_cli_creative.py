"""The creative loop in the terminal: continue from a job's last frame, stitch, confirm."""
from __future__ import annotations

import json
import struct
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from adapters.stand_in import sample_mp4
from tests.adapters.terminal.test_cli import KEY, SORA_BOT, FakeApi, _env, _free_port, sora
from tests.adapters.terminal.test_cli import fake_api  # noqa: F401 - a fixture

SAMPLE_SIZE = (320, 180)  # adapters/stand_in/assets/sample.mp4: 2 s of 320x180


def _requests(api: FakeApi) -> list[dict[str, Any]]:
    with urllib.request.urlopen(api.control.replace("_control", "_requests"), timeout=5) as resp:
        return json.loads(resp.read())


def _submits(api: FakeApi) -> list[dict[str, Any]]:
    return [r["body"] for r in _requests(api) if r["method"] == "POST" and "/videos" in r["path"]]


def _urls(body: Any) -> list[str]:
    if isinstance(body, str):
        return [body] if body.startswith("http") else []
    if isinstance(body, dict):
        return [u for v in body.values() for u in _urls(v)]
    if isinstance(body, list):
        return [u for v in body for u in _urls(v)]
    return []


def _image_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    return struct.unpack(">II", data[16:24])


def _first_job(tmp_path: Path, env: dict[str, str], prompt: str, out: str) -> str:
    done = sora(tmp_path, "generate", prompt, "--out", out, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)[0]["id"]


def test_continue_serves_the_last_frame_while_the_job_runs(tmp_path, fake_api):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url,
               PUBLIC_BASE_URL=base, PORT=str(port))
    first = _first_job(tmp_path, env, "a boat leaves the harbour", "a.mp4")
    fake_api.set(job_seconds=3.0)
    proc = subprocess.Popen([*SORA_BOT, "generate", "the boat reaches the sea", "--continue", first,
                             "--out", "b.mp4"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while len(_submits(fake_api)) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr and proc.stderr.read()
        time.sleep(0.05)
    body = _submits(fake_api)[1]
    urls = _urls(body)
    assert len(urls) == 1 and urls[0].startswith(f"{base}/media/"), body
    assert body.get("prompt") == "the boat reaches the sea"
    with urllib.request.urlopen(urls[0], timeout=5) as resp:  # while the job is submitted
        assert resp.headers["Content-Type"] in ("image/png", "image/jpeg")
        assert _image_size(resp.read()) == SAMPLE_SIZE
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (tmp_path / "b.mp4").read_bytes() == sample_mp4()
    jobs = json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)
    assert [j["status"] for j in jobs] == ["delivered", "delivered"]
    try:  # the frame is served only for the length of the job
        urllib.request.urlopen(urls[0], timeout=2)
        raise AssertionError("the frame is still served after the job")
    except (urllib.error.URLError, ConnectionError):
        pass


def test_continue_without_a_public_address_says_what_to_set(tmp_path, fake_api):
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url)
    first = _first_job(tmp_path, env, "a boat", "a.mp4")
    done = sora(tmp_path, "generate", "more boat", "--continue", first, env=env)
    assert done.returncode == 2 and "PUBLIC_BASE_URL" in done.stderr
    assert len(_submits(fake_api)) == 1


def test_stitch_lasts_as_long_as_its_clips(tmp_path, fake_api):
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url)
    a = _first_job(tmp_path, env, "a boat", "a.mp4")
    b = _first_job(tmp_path, env, "the sea", "b.mp4")
    done = sora(tmp_path, "stitch", a, b, "--out", "s.mp4", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "s.mp4")
    assert _seconds(tmp_path / "s.mp4") == _seconds(tmp_path / "a.mp4") + _seconds(tmp_path / "b.mp4")
    assert len(_submits(fake_api)) == 2  # stitching asks the video service for nothing
    bad = sora(tmp_path, "stitch", a, "job_000000000000", "--out", "t.mp4", env=env)
    assert bad.returncode == 2 and "no job job_000000000000" in bad.stderr
    assert not (tmp_path / "t.mp4").exists()


def _seconds(video: Path) -> float:
    import asyncio

    from bot.transcode import duration_seconds

    value = asyncio.run(duration_seconds(video))
    assert value
    return round(value, 2)


def test_an_expensive_job_without_a_terminal_needs_yes(tmp_path, fake_api):
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url,
               SORA_USER_DAILY_USD="none")
    args = ["generate", "a long pro shot", "--model", "sora-2-pro", "--resolution", "1080p",
            "--duration", "20"]
    refused = sora(tmp_path, *args, env=env)
    assert refused.returncode == 2
    assert "$11.20" in refused.stderr and "--yes" in refused.stderr
    assert _submits(fake_api) == []
    done = sora(tmp_path, *args, "--yes", "--out", "pro.mp4", env=env)
    assert done.returncode == 0, done.stderr
    assert len(_submits(fake_api)) == 1
    cheap = sora(tmp_path, "generate", "a short one", "--out", "c.mp4", env=env)
    assert cheap.returncode == 0, cheap.stderr  # under the threshold: no question
