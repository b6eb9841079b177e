"""Socket Mode: envelopes pushed over the fake's websocket; and a restart mid-job."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from adapters.slack import serve
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests.adapters.slack.conftest import CHANNEL, command_payload
from tests.fakes.slack import APP_TOKEN, TEAM_ID, FakeSlack


@pytest.fixture
def socket_settings(slack_settings: Settings) -> Settings:
    return slack_settings.with_(slack_app_token=APP_TOKEN, slack_signing_secret="", public_base_url=None)


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Runtime]:
    """`sora-bot run` for Slack: a runtime and serve() until cancelled."""
    async with open_runtime(settings) as rt:
        task = asyncio.create_task(serve(rt))
        try:
            yield rt
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_slash_command_over_socket_mode(socket_settings: Settings, fake_slack: FakeSlack,
                                              stand_in) -> None:
    async with serving(socket_settings) as rt:
        ack = await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "a cat --pro"))
        assert "envelope_id" in ack
        await fake_slack.wait_for(lambda: fake_slack.calls_to("files.completeUploadExternal"))
        [job] = await rt.engine.jobs(team=TEAM_ID)
        assert job.request.model == "sora-2-pro"
        assert "estimated cost $0.96" in fake_slack.responses[0]["text"]
    assert fake_slack.calls_to("apps.connections.open")[0].token == APP_TOKEN


async def test_restart_mid_job_delivers_once(socket_settings: Settings, fake_slack: FakeSlack,
                                             stand_in) -> None:
    stand_in.state.job_seconds = 1.0
    async with serving(socket_settings) as rt:
        await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "a slow sunrise"))
        async def _check():
            return (await rt.engine.jobs()) and (await rt.engine.jobs())[0].status == "submitted"
        await _until(_check)
        job_id = (await rt.engine.jobs())[0].id
    # The process is gone mid-job: nothing uploaded yet.
    assert fake_slack.calls_to("files.completeUploadExternal") == []
    assert len(stand_in.state.submits()) == 1

    async with serving(socket_settings) as rt:
        await fake_slack.wait_for(lambda: fake_slack.calls_to("files.completeUploadExternal"))
        job = await rt.engine.wait(job_id)
        assert job.status == "delivered" and (await rt.store.ledger_state(job_id)) == "spent"
    assert len(stand_in.state.submits()) == 1
    assert len(fake_slack.calls_to("upload")) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # the same progress message...
    status = fake_slack.message(CHANNEL, job.origin["status_ref"])
    assert status is not None and "Done" in status["text"]  # ...finished after the restart


@pytest.mark.parametrize("setting, expected", [
    ("slack_bot_token", "Slack refused SLACK_BOT_TOKEN (invalid_auth)"),
    ("slack_app_token", "Slack refused SLACK_APP_TOKEN (invalid_auth)"),
])
async def test_refused_tokens_stop_the_start_with_a_clear_message(
        socket_settings: Settings, fake_slack: FakeSlack, setting: str, expected: str) -> None:
    from bot.errors import ConfigError

    settings = socket_settings.with_(**{setting: "xoxb-wrong"})
    async with open_runtime(settings) as rt:
        with pytest.raises(ConfigError) as err:
            await serve(rt)
    assert expected in err.value.user_message and "xoxb-wrong" not in err.value.user_message
