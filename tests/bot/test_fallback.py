"""A model gone upstream: the job moves to its fallback, re-quoted and re-reserved atomically,
over real HTTP on 127.0.0.1 (the APIMaster stand-in and an openai-dialect backup)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters import stand_in as stand_in_app
from adapters.stand_in import sample_mp4
from bot import catalogue
from bot.models import Requester, VideoRequest
from bot.runtime import Runtime, open_runtime
from tests.conftest import TEST_KEY, StandIn
from tests.fakes.catalogues import BACKUP
from tests.fakes.recorder import RecordingEvents

BACKUP_KEY = "bk-backup-SECRET-5e0c"
ANN = Requester("cli", "team1", "ann")


@pytest.fixture
async def backup() -> AsyncIterator[StandIn]:
    state = stand_in_app.StandInState(api_key=BACKUP_KEY, job_seconds=0.1)
    async with stand_in_app.running(state) as base_url:
        yield StandIn(base_url, state)


@pytest.fixture
async def rt(settings, tmp_path: Path, stand_in, backup) -> AsyncIterator[Runtime]:
    path = tmp_path / "models.toml"
    path.write_text(BACKUP.format(backup=backup.base_url))
    models = catalogue.load(path, {"BACKUP_API_KEY": BACKUP_KEY})
    stand_in.state.catalogue = backup.state.catalogue = models
    stand_in.state.gone = ["sora-2"]
    async with open_runtime(settings.with_(catalogue=models)) as runtime:
        yield runtime


async def test_a_gone_model_is_made_by_its_fallback_at_the_fallback_price(rt, stand_in, backup):
    events = RecordingEvents()
    accepted = await rt.engine.submit(VideoRequest("a fox", "sora-2", 8), ANN, events)
    assert accepted.job.cost_micros == 640_000  # quoted at sora-2's price first
    job = await rt.engine.wait(accepted.job.id)
    assert job.status == "delivered" and events.videos == [sample_mp4()]
    assert (job.request.model, job.requested_model, job.cost_micros) == ("sora-2-backup", "sora-2", 800_000)
    assert (await rt.store.ledger_state(job.id)) == "spent"
    assert (await rt.store.totals())[0]["spent_micros"] == 800_000
    assert len(stand_in.state.submits()) == 1  # answered 404 model_not_found, no task
    [post] = backup.state.submits()
    assert post == {"model": "sora-2", "prompt": "a fox", "seconds": "8", "size": "1280x720"}
    assert {r.authorization for r in backup.state.requests} == {f"Bearer {BACKUP_KEY}"}
    assert {r.authorization for r in stand_in.state.requests} == {f"Bearer {TEST_KEY}"}


async def test_a_price_rise_that_does_not_fit_fails_and_releases_everything(rt, stand_in, backup):
    await rt.budgets.set("team1", "ann", daily=0.70, by="admin", via="cli")  # $0.64 at sora-2 fits; $0.80 at the backup not
    events = RecordingEvents()
    accepted = await rt.engine.submit(VideoRequest("a fox", "sora-2", 8), ANN, events)
    job = await rt.engine.wait(accepted.job.id)
    assert job.status == "failed" and (await rt.store.ledger_state(job.id)) == "released"
    assert "sora-2 is not available" in events.failure() and "costs more ($0.80)" in events.failure()
    assert "$0.70 left of $0.70" in events.failure()
    assert ((await rt.store.totals())[0]["reserved_micros"], (await rt.store.totals())[0]["spent_micros"]) == (0, 0)
    assert (await rt.engine.job(job.id)).request.model == "sora-2"
    assert backup.state.requests == []


async def test_a_request_the_fallback_cannot_make_fails_naming_both(rt, backup):
    events = RecordingEvents()
    accepted = await rt.engine.submit(VideoRequest("a fox", "sora-2", 16), ANN, events)
    job = await rt.engine.wait(accepted.job.id)
    assert job.status == "failed" and (await rt.store.ledger_state(job.id)) == "released"
    assert events.failure() == (
        "sora-2 is not available at the video service and its fallback sora-2-backup cannot make "
        "this request: sora-2-backup offers 4, 8 or 12 seconds. An admin can set a `fallback` for "
        "sora-2 in SORA_MODELS_FILE (see `sora-bot models`), or choose another model. Nothing was "
        "charged.")
    assert backup.state.requests == []


async def test_no_fallback_says_what_the_admin_can_do(rt, stand_in):
    stand_in.state.gone = ["sora-2-pro"]
    events = RecordingEvents()
    accepted = await rt.engine.submit(VideoRequest("x", "sora-2-pro"), ANN, events)
    job = await rt.engine.wait(accepted.job.id)
    assert job.status == "failed" and (await rt.store.ledger_state(job.id)) == "released"
    assert events.failure().startswith("sora-2-pro is not available at the video service (model "
                                       "not found). An admin can set a `fallback` for sora-2-pro")


async def test_only_a_definite_model_not_found_moves_the_job(rt, stand_in, backup):
    stand_in.state.gone = []
    stand_in.state.fail("submit", "500")  # a task may exist: never resubmitted anywhere
    events = RecordingEvents()
    job = await rt.engine.wait((await rt.engine.submit(VideoRequest("x"), ANN, events)).job.id)
    assert job.status == "unknown" and job.request.model == "sora-2"  # held, not moved
    assert len(stand_in.state.submits()) == 1 and backup.state.requests == []


async def test_a_moved_job_resumes_at_the_fallback_provider_after_a_restart(rt, stand_in, backup):
    backup.state.job_seconds = 1.0
    accepted = await rt.engine.submit(VideoRequest("a fox", "sora-2", 4), ANN, RecordingEvents())
    for _ in range(200):
        if ((await rt.engine.job(accepted.job.id))).status == "submitted":
            break
        await asyncio.sleep(0.01)
    await rt.engine.aclose()  # the process stops with the task running at the backup
    events = RecordingEvents()
    async with open_runtime(rt.settings) as again:
        again.engine.register("cli", lambda job: events)
        [resumed] = await again.engine.resume()
        job = await again.engine.wait(resumed.id)
    assert job.status == "delivered" and job.request.model == "sora-2-backup"
    assert events.videos == [sample_mp4()]
    assert len(stand_in.state.submits()) == 1 and len(backup.state.submits()) == 1
    assert [r.method for r in backup.state.requests].count("GET") >= 2  # polled, then downloaded
    assert {r.authorization for r in backup.state.requests} == {f"Bearer {BACKUP_KEY}"}
    assert [r.method for r in stand_in.state.requests] == ["POST"]  # no poll went to APIMaster
