"""`/sora` with no text opens a modal; submitting it starts the job or shows field errors."""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from adapters.slack.modal import CALLBACK_ID
from tests.adapters.slack.conftest import CHANNEL, SECRET, Bot, running
from tests.fakes.slack import TEAM_ID


def submission(prompt: str, model: str = "sora-2", duration: str = "4", resolution: str = "720p",
               aspect: str = "16:9") -> dict[str, Any]:
    def sel(v: str) -> dict[str, Any]:
        return {"value": {"type": "static_select", "selected_option": {"value": v}}}

    return {
        "type": "view_submission", "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": "UANN", "username": "ann", "name": "ann", "team_id": TEAM_ID},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
        "view": {
            "id": "V1", "team_id": TEAM_ID, "type": "modal", "callback_id": CALLBACK_ID,
            "private_metadata": json.dumps({"channel": CHANNEL}), "hash": "h",
            "state": {"values": {
                "prompt": {"value": {"type": "plain_text_input", "value": prompt}},
                "model": sel(model), "duration": sel(duration), "resolution": sel(resolution),
                "aspect": sel(aspect),
            }},
        },
    }


async def _submit(bot: Bot, payload: dict[str, Any]) -> tuple[int, str]:
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    async with bot.http.post(f"{bot.url}/slack/events", data=body.encode(), headers={
        "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
        "x-slack-signature": sig,
    }) as resp:
        return resp.status, await resp.text()


async def test_empty_command_opens_the_modal(bot: Bot) -> None:
    await bot.command("")
    await bot.fake.wait_for(lambda: bot.fake.calls_to("views.open"))
    [call] = bot.fake.calls_to("views.open")
    view = call.args["view"] if isinstance(call.args["view"], dict) else json.loads(call.args["view"])
    assert call.args["trigger_id"].startswith("1337.") and view["callback_id"] == CALLBACK_ID
    assert json.loads(view["private_metadata"]) == {"channel": CHANNEL}


async def test_modal_submission_starts_the_job(slack_settings, fake_slack, stand_in) -> None:
    async with running(slack_settings.with_(confirm_above_usd=None), fake_slack) as bot:  # $4.48
        status, _ = await _submit(bot, submission("a paper boat", "sora-2-pro", "8", "1080p", "9:16"))
        assert status == 200
        await bot.fake.wait_for(lambda: bot.fake.calls_to("files.completeUploadExternal"))
        [job] = await bot.rt.engine.jobs(team=TEAM_ID)
    [submit] = stand_in.state.submits()
    assert submit["prompt"] == "a paper boat"
    assert (job.request.model, job.request.duration, job.request.resolution, job.request.aspect) == (
        "sora-2-pro", 8, "1080p", "9:16")
    [note] = bot.fake.calls_to("chat.postEphemeral")
    assert note.args["user"] == "UANN" and "estimated cost $4.48" in note.args["text"]


async def test_modal_invalid_combination_shows_field_error(bot: Bot, stand_in) -> None:
    status, text = await _submit(bot, submission("a cat", "sora-2", "4", "1080p"))
    assert status == 200
    body = json.loads(text)
    assert body["response_action"] == "errors" and "sora-2-pro" in body["errors"]["resolution"]
    assert (await bot.rt.engine.jobs()) == [] and stand_in.state.submits() == []
