"""`sora-bot jobs release|charge JOB`, run in this process (the behaviour is not about
processes): an admin settles a job whose outcome is unknown, once."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from adapters import stand_in
from adapters.main import main
from bot.models import Requester, VideoRequest
from bot.runtime import open_runtime
from bot.settings import Settings
from tests.fakes.recorder import RecordingEvents


async def _lost_submit(settings: Settings) -> str:
    state = stand_in.StandInState(job_seconds=0.1)
    state.fail("submit", "drop")
    async with stand_in.running(state) as base_url:
        async with open_runtime(settings.with_(base_url=base_url, api_key="k" * 12)) as rt:
            accepted = await rt.engine.submit(VideoRequest("lost"), Requester("cli", "local", "ann"),
                                              RecordingEvents())
            return (await rt.engine.wait(accepted.job.id)).id


def test_release_and_charge_a_held_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SORA_DB", str(tmp_path / "sora.db"))
    monkeypatch.setenv("APIMASTER_API_KEY", "k" * 12)
    job_id = asyncio.run(_lost_submit(Settings(db_path=tmp_path / "sora.db", retry_base_delay=0.01)))

    assert main(["usage", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["held_usd"], row["reserved_usd"]) == (0.32, 0.32)
    assert main(["jobs", "release"]) == 2
    assert "name the job" in capsys.readouterr().err
    assert main(["jobs", "release", job_id]) == 0
    assert capsys.readouterr().out.strip() == f"{job_id}: Released by an admin: the service did not make it."
    assert main(["jobs", "charge", job_id]) == 2  # settled already: once only
    assert "only a job whose outcome is unknown" in capsys.readouterr().err
    assert main(["usage", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["held_usd"], row["reserved_usd"], row["spent_usd"]) == (0, 0, 0)
