"""The job engine end to end over the stand-in: what the user is told and what is stored."""
from __future__ import annotations

import asyncio

import pytest

from bot.engine import FinishEstimate
from bot.errors import InvalidRequest, QuotaExceeded
from bot.models import Requester, VideoRequest
from bot.runtime import open_runtime
from adapters.stand_in import sample_mp4
from tests.fakes.recorder import RecordingEvents

ALICE = Requester("cli", "team1", "alice")


async def test_happy_path_reserves_delivers_and_charges_once(runtime, stand_in):
    events = RecordingEvents()
    accepted = await runtime.engine.submit(VideoRequest("a waterfall", duration=8), ALICE, events)
    assert accepted.job.cost_micros == 640_000
    assert accepted.left_today == 5_000_000 - 640_000
    assert (await runtime.store.ledger_state(accepted.job.id)) == "reserved"
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "delivered" and job.error is None
    assert events.videos == [sample_mp4()]
    assert events.seen[0] == ("accepted", job.id)
    assert events.stages()[0] == "queued" and events.stages()[-1] == "downloading"
    assert "in_progress" in events.stages()
    assert (await runtime.store.ledger_state(job.id)) == "spent"
    [total] = await runtime.store.totals()
    assert (total["spent_micros"], total["reserved_micros"], total["jobs"]) == (640_000, 0, 1)
    assert len(stand_in.state.submits()) == 1


async def test_invalid_request_stores_and_sends_nothing(runtime, stand_in):
    with pytest.raises(InvalidRequest, match="1080p needs sora-2-pro"):
        await runtime.engine.submit(VideoRequest("x", resolution="1080p"), ALICE, RecordingEvents())
    assert (await runtime.engine.jobs()) == [] and (await runtime.store.totals()) == []
    assert stand_in.state.requests == []


async def test_quota_refusal_says_what_is_left_and_charges_nothing(runtime, stand_in):
    await runtime.budgets.set("team1", "alice", daily=1.00, by="test", via="cli")
    first = await runtime.engine.submit(VideoRequest("x", duration=8), ALICE, RecordingEvents())
    with pytest.raises(QuotaExceeded) as refused:
        await runtime.engine.submit(VideoRequest("y", duration=8), ALICE, RecordingEvents())
    message = refused.value.user_message
    assert "costs $0.64" in message and "$0.36 left of $1.00" in message and "resets at" in message
    await runtime.engine.wait(first.job.id)
    assert len((await runtime.engine.jobs())) == 1 and len(stand_in.state.submits()) == 1


async def test_team_budget_applies_to_every_member(runtime):
    await runtime.budgets.set("team1", None, daily=0.50, by="test", via="cli")
    await runtime.engine.submit(VideoRequest("x"), ALICE, RecordingEvents())  # $0.32
    with pytest.raises(QuotaExceeded, match="team's daily budget has \\$0.18 left"):
        await runtime.engine.submit(VideoRequest("y"), Requester("cli", "team1", "bob"),
                                    RecordingEvents())
    await runtime.engine.submit(VideoRequest("z"), Requester("cli", "team2", "bob"),
                                RecordingEvents())


@pytest.mark.parametrize("endpoint, kind, expected", [
    ("submit", "401", "APIMASTER_API_KEY"),
    ("submit", "402", "out of credit"),
    ("submit", "400", "refused the request"),
    ("submit", "generation", "content filter"),
])
async def test_failures_are_explained_and_released(runtime, stand_in, endpoint, kind, expected):
    stand_in.state.fail(endpoint, kind)
    events = RecordingEvents()
    accepted = await runtime.engine.submit(VideoRequest("x"), ALICE, events)
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "failed"
    assert expected in events.failure()
    assert "Traceback" not in events.failure()
    assert (await runtime.store.ledger_state(job.id)) == "released"
    assert (await runtime.budgets.status("team1", "alice")).left_today == 5_000_000


async def test_a_job_past_its_deadline_is_abandoned_and_released(settings, stand_in):
    stand_in.state.job_seconds = 30
    async with open_runtime(settings.with_(job_timeout=0.3)) as rt:
        events = RecordingEvents()
        accepted = await rt.engine.submit(VideoRequest("x"), ALICE, events)
        job = await rt.engine.wait(accepted.job.id)
        assert job.status == "failed" and "took too long" in events.failure()
        assert (await rt.store.ledger_state(job.id)) == "released"


async def test_extra_jobs_wait_in_line_and_say_so(settings, stand_in):
    async with open_runtime(settings.with_(max_jobs_per_user=1)) as rt:
        first, second = RecordingEvents(), RecordingEvents()
        a = await rt.engine.submit(VideoRequest("one"), ALICE, first)
        b = await rt.engine.submit(VideoRequest("two"), ALICE, second)
        await rt.engine.wait(a.job.id)
        await rt.engine.wait(b.job.id)
        assert "waiting" not in first.stages()
        assert second.stages()[0] == "waiting"
        assert [p.position for k, p in second.seen if k == "progress"][0] == 1
        tasks = stand_in.state.tasks.values()
        assert len(tasks) == 2
        one, two = sorted(tasks, key=lambda t: t.created)
        assert two.created >= one.created + one.seconds  # the second began after the first


async def test_restart_mid_job_polls_and_delivers_once(settings, stand_in):
    stand_in.state.job_seconds = 1.0
    seen = RecordingEvents()
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("x"), ALICE, seen)
        while (await rt.engine.job(accepted.job.id)).status != "submitted":
            await asyncio.sleep(0.01)
    # The process "stops" here; the job is in the database with its task id.
    resumed_events = RecordingEvents()
    async with open_runtime(settings) as rt:
        rt.engine.register("cli", lambda job: resumed_events)
        [job] = await rt.engine.resume()
        done = await rt.engine.wait(job.id)
        assert await rt.engine.resume() == []
    assert done.status == "delivered"
    assert len(stand_in.state.submits()) == 1
    assert seen.videos == [] and resumed_events.videos == [sample_mp4()]
    assert ("accepted", job.id) not in resumed_events.seen


async def test_a_job_cut_off_while_submitting_is_not_resent(settings, stand_in, runtime):
    accepted = await runtime.engine.submit(VideoRequest("x"), ALICE, RecordingEvents())
    await runtime.engine.wait(accepted.job.id)
    await runtime.store.update_job(accepted.job.id, status="submitting", task_id=None)
    async with runtime.store.db.connection() as tx:
        await tx.execute("UPDATE ledger SET state = 'reserved'")
    events = RecordingEvents()
    runtime.engine.register("cli", lambda job: events)
    await runtime.engine.resume()
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "unknown" and "$0.32 is held" in events.failure()
    assert (await runtime.store.ledger_state(job.id)) == "reserved"  # held, not released silently
    assert len(stand_in.state.submits()) == 1
    assert await runtime.engine.resume() == []  # never sent again


@pytest.mark.parametrize("kind", ["drop", "500"])
async def test_a_lost_submit_answer_holds_the_cost(runtime, stand_in, kind):
    """The task may exist upstream and be billed: the member is told, the money stays held
    and counts against the budget, and only an admin settles it."""
    stand_in.state.fail("submit", kind)
    events = RecordingEvents()
    accepted = await runtime.engine.submit(VideoRequest("a lost fox"), ALICE, events)
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "unknown" and (await runtime.store.ledger_state(job.id)) == "reserved"
    assert "may have made this video" in events.failure() and "$0.32 is held" in events.failure()
    assert "Nothing was charged" not in events.failure()
    assert (await runtime.budgets.status(ALICE.team, ALICE.user)).usage.user_day == 320_000
    assert len(stand_in.state.submits()) == 1

    with pytest.raises(InvalidRequest, match="no job"):
        await runtime.engine.settle_unknown(job.id, charge=False, team="another-team")
    released = await runtime.engine.settle_unknown(job.id, charge=False)
    assert released.status == "failed" and (await runtime.store.ledger_state(job.id)) == "released"
    with pytest.raises(InvalidRequest, match="only a job whose outcome is unknown"):
        await runtime.engine.settle_unknown(job.id, charge=True)


async def test_an_admin_charges_an_unknown_job_the_service_did_make(runtime, stand_in):
    stand_in.state.fail("submit", "drop")
    accepted = await runtime.engine.submit(VideoRequest("x"), ALICE, RecordingEvents())
    await runtime.engine.wait(accepted.job.id)
    charged = await runtime.engine.settle_unknown(accepted.job.id, charge=True)
    assert charged.status == "delivered" and (await runtime.store.ledger_state(charged.id)) == "spent"


async def test_a_refused_submit_releases_at_once(runtime, stand_in):
    stand_in.state.fail("submit", "400")
    events = RecordingEvents()
    accepted = await runtime.engine.submit(VideoRequest("x"), ALICE, events)
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "failed" and (await runtime.store.ledger_state(job.id)) == "released"
    assert "refused the request" in events.failure()


async def test_a_failed_delivery_is_recorded_not_repeated(runtime):
    class BrokenUpload(RecordingEvents):
        async def completed(self, job, video):
            raise RuntimeError("upload refused")

    accepted = await runtime.engine.submit(VideoRequest("x"), ALICE, BrokenUpload())
    job = await runtime.engine.wait(accepted.job.id)
    assert (job.status, job.error) == ("delivered", "delivery failed")
    assert (await runtime.store.ledger_state(job.id)) == "spent"
    assert await runtime.engine.resume() == []


async def test_percent_updates_are_throttled(settings, stand_in):
    stand_in.state.job_seconds = 0.6
    async with open_runtime(settings.with_(progress_min_interval=10)) as rt:
        events = RecordingEvents()
        accepted = await rt.engine.submit(VideoRequest("x"), ALICE, events)
        await rt.engine.wait(accepted.job.id)
    stages = events.stages()
    assert stages.count("in_progress") == 1  # stage changes pass, repeats are held back
    assert stages[-1] == "downloading"


async def test_a_long_poll_outage_does_not_lose_the_job(settings, stand_in):
    async with open_runtime(settings.with_(max_retries=1)) as rt:
        stand_in.state.fail("poll", "502", times=6)  # more than the retries of one call
        events = RecordingEvents()
        accepted = await rt.engine.submit(VideoRequest("x"), ALICE, events)
        job = await rt.engine.wait(accepted.job.id)
    assert job.status == "delivered" and events.videos == [sample_mp4()]
    assert stand_in.state.failures["poll"] == []


async def test_a_job_resumed_after_its_deadline_is_still_collected(settings, stand_in):
    async with open_runtime(settings) as rt:
        accepted = await rt.engine.submit(VideoRequest("x"), ALICE, RecordingEvents())
        while (await rt.engine.job(accepted.job.id)).status != "submitted":
            await asyncio.sleep(0.01)
    # Down for longer than the job timeout; the video finished upstream meanwhile.
    await asyncio.sleep(stand_in.state.job_seconds)
    async with open_runtime(settings.with_(job_timeout=0.01)) as rt:
        await rt.store.update_job(accepted.job.id, deadline=0.0)
        events = RecordingEvents()
        rt.engine.register("cli", lambda job: events)
        await rt.engine.resume()
        job = await rt.engine.wait(accepted.job.id)
    assert job.status == "delivered" and events.videos == [sample_mp4()]


def test_finish_estimate_needs_two_readings_of_rising_progress():
    eta = FinishEstimate()
    assert eta.remaining(None, 0.0) is None and eta.remaining(0, 0.5) is None
    assert eta.remaining(20, 1.0) is None  # one reading: no rate yet
    assert eta.remaining(20, 2.0) is None  # no rise: no estimate
    assert eta.remaining(60, 3.0) == pytest.approx(2.0)  # 40 points in 2 s, 40 to go
    assert eta.remaining(100, 4.0) is None
