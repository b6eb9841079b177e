"""The creative loop against the fake Slack: edit and re-run through the modal, continue in
the first result's thread, stitch, confirm before an expensive job, delete, re-post."""
from __future__ import annotations

import asyncio
import inspect
import json
import struct
from typing import Any

import aiohttp

from adapters.slack.modal import CALLBACK_ID
from tests.adapters.slack.conftest import CHANNEL, Bot, running
from tests.fakes.slack import TEAM_ID


def press(bot: Bot, action_id: str, value: str, user: str, ts: str | None = None) -> dict[str, Any]:
    """A block_actions payload: `user` pressed a button of a message in CHANNEL."""
    return {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "username": bot.fake.users[user]["name"], "team_id": TEAM_ID},
        "api_app_id": "A1", "token": "legacy", "trigger_id": f"trig.{action_id}.{user}",
        "channel": {"id": CHANNEL}, "container": {"type": "message", "message_ts": ts},
        "message": {"ts": ts, "type": "message"}, "response_url": bot.fake.response_url(),
        "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button",
                     "action_ts": "1"}],
    }


def submit_view(view: dict[str, Any], user: str, prompt: str, view_id: str) -> dict[str, Any]:
    """Submit the view the bot opened, with its initial choices and a new prompt."""
    values: dict[str, Any] = {"prompt": {"value": {"type": "plain_text_input", "value": prompt}}}
    for block in view["blocks"][1:]:
        values[block["block_id"]] = {"value": {"type": "static_select",
                                               "selected_option": block["element"]["initial_option"]}}
    return {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
            "view": {**view, "id": view_id, "team_id": TEAM_ID, "hash": "h",
                     "state": {"values": values}}}


def opened_view(bot: Bot, n: int = -1) -> dict[str, Any]:
    raw = bot.fake.calls_to("views.open")[n].args["view"]
    return raw if isinstance(raw, dict) else json.loads(raw)


async def _holds(check: Any) -> bool:
    value = check()
    return bool(await value if inspect.isawaitable(value) else value)


async def until(check: Any, timeout: float = 10.0) -> None:
    """Poll: the fake's own wait_for wakes only on calls, and the store changes without one."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await _holds(check):
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def delivered(bot: Bot, count: int) -> list:
    async def enough() -> bool:
        return len([j for j in await bot.rt.engine.jobs() if j.status == "delivered"]) >= count
    await until(enough)
    return sorted(await bot.rt.engine.jobs(), key=lambda j: j.created_at)


async def first_result(bot: Bot, text: str = "a fox") -> Any:
    await bot.command(text)
    [job] = await delivered(bot, 1)
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])
    await until(lambda: status.get("blocks"))
    return job, status


def action_ids(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_edit_through_the_modal_charges_whoever_submits(bot: Bot, stand_in) -> None:
    bot.fake.add_user("UBOB", "bob")
    first, status = await first_result(bot, "a fox in the snow --duration 8")
    assert action_ids(status) == ["sora_edit", "sora_continue", "sora_delete"]
    await bot.interaction(press(bot, "sora_edit", first.id, "UBOB", status["ts"]))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("views.open"))
    view = opened_view(bot)
    assert view["callback_id"] == CALLBACK_ID and view["title"]["text"] == "Edit and run again"
    assert view["blocks"][0]["element"]["initial_value"] == "a fox in the snow"
    await bot.interaction(submit_view(view, "UBOB", "a fox in the rain", "VEDIT"))
    jobs = await delivered(bot, 2)
    second = jobs[1]
    assert second.request.prompt == "a fox in the rain" and second.request.duration == 8
    assert second.requester.user == "UBOB" and second.parent == first.id
    assert stand_in.state.submits()[-1]["prompt"] == "a fox in the rain"
    spent = {t["user"]: t["spent_micros"] for t in await bot.rt.store.totals()}
    assert spent == {"UANN": 640_000, "UBOB": 640_000}
    assert f"edited from `{first.id}`" in bot.fake.message(CHANNEL, second.origin["status_ref"])["text"]


async def test_continue_and_stitch_post_in_the_first_results_thread(bot: Bot, stand_in) -> None:
    first, status = await first_result(bot, "a boat leaves the harbour")
    stand_in.state.job_seconds = 1.0
    await bot.interaction(press(bot, "sora_continue", first.id, "UANN", status["ts"]))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("views.open"))
    view = opened_view(bot)
    await bot.interaction(submit_view(view, "UANN", "the boat reaches the sea", "VCONT"))
    await until(lambda: len(stand_in.state.submits()) == 2)
    submitted = stand_in.state.submits()[-1]
    [url] = submitted["image_urls"]
    assert url.startswith(f"{bot.rt.settings.public_base_url}/media/")
    async with aiohttp.ClientSession() as http, http.get(url) as resp:  # while the job runs
        assert resp.status == 200 and resp.content_type == "image/png"
        assert struct.unpack(">II", (await resp.read())[16:24]) == (320, 180)
    jobs = await delivered(bot, 2)
    second = jobs[1]
    thread = first.origin["status_ref"]
    assert second.origin["thread_ts"] == thread and second.sequence == first.id
    assert bot.fake.message(CHANNEL, second.origin["status_ref"])["thread_ts"] == thread
    uploads = bot.fake.calls_to("files.completeUploadExternal")
    assert uploads[-1].args["thread_ts"] == thread
    last = bot.fake.message(CHANNEL, second.origin["status_ref"])
    await until(lambda: last.get("blocks"))
    assert "sora_stitch" in action_ids(last)
    await bot.interaction(press(bot, "sora_stitch", second.id, "UANN", last["ts"]))
    await bot.fake.wait_for(lambda: any("Stitched 2 clips" in r.get("text", "") for r in bot.fake.responses))
    stitched = bot.fake.calls_to("files.completeUploadExternal")[-1]
    assert stitched.args["thread_ts"] == thread and "2 clips stitched" in stitched.args["initial_comment"]
    assert len(stand_in.state.submits()) == 2  # stitching costs nothing


async def test_continue_without_a_public_address_says_what_to_set(slack_settings, fake_slack, stand_in) -> None:
    async with running(slack_settings.with_(public_base_url=None), fake_slack) as bot:
        first, status = await first_result(bot)
        await bot.interaction(press(bot, "sora_continue", first.id, "UANN", status["ts"]))
        await until(lambda: any("PUBLIC_BASE_URL" in r.get("text", "") for r in bot.fake.responses))
    assert bot.fake.calls_to("views.open") == []


async def test_confirm_and_cancel_gate_the_reservation(slack_settings, fake_slack, stand_in) -> None:
    fake_slack.add_user("UBOB", "bob")
    async with running(slack_settings.with_(confirm_above_usd=0.5), fake_slack) as bot:
        await bot.command("an expensive fox --duration 8")
        [offer] = await bot.replies(1)
        assert "$0.64" in offer and await bot.rt.engine.jobs() == [] and await bot.rt.store.totals() == []
        buttons = bot.fake.responses[0]["blocks"][1]["elements"]
        offer_id = buttons[0]["value"]
        assert [b["action_id"] for b in buttons] == ["sora_confirm", "sora_cancel"]
        await bot.interaction(press(bot, "sora_cancel", offer_id, "UANN"))
        await bot.replies(2)
        assert "Cancelled" in bot.fake.responses[-1]["text"] and bot.fake.responses[-1]["replace_original"]
        assert await bot.rt.engine.jobs() == [] and stand_in.state.submits() == []

        await bot.command("an expensive fox --duration 8")
        await bot.replies(3)
        offer_id = bot.fake.responses[-1]["blocks"][1]["elements"][0]["value"]
        await bot.interaction(press(bot, "sora_confirm", offer_id, "UBOB"))
        await bot.replies(4)
        assert "Only the member who asked" in bot.fake.responses[-1]["text"]
        assert await bot.rt.engine.jobs() == []
        await bot.interaction(press(bot, "sora_confirm", offer_id, "UANN"))
        await bot.replies(5)
        assert "estimated cost $0.64" in bot.fake.responses[-1]["text"]
        [job] = await bot.rt.engine.jobs()
        assert job.requester.user == "UANN"
        await bot.interaction(press(bot, "sora_confirm", offer_id, "UANN"))
        await bot.replies(6)
        assert "expired or was already answered" in bot.fake.responses[-1]["text"]
        await delivered(bot, 1)
    assert len(stand_in.state.submits()) == 1


async def test_only_the_requester_or_an_admin_deletes_a_result(bot: Bot, stand_in) -> None:
    bot.fake.add_user("UBOB", "bob")
    job, status = await first_result(bot)
    seen = len(bot.fake.responses)  # the private "Started ..." answer

    async def answer() -> str:
        nonlocal seen
        seen += 1
        return (await bot.replies(seen))[seen - 1]

    await bot.interaction(press(bot, "sora_delete", job.id, "UBOB", status["ts"]))
    assert "Only the member who asked" in await answer()
    assert bot.fake.calls_to("chat.delete") == [] and bot.fake.message(CHANNEL, status["ts"])
    await bot.interaction(press(bot, "sora_delete", job.id, "UANN", status["ts"]))
    assert "Deleted the result" in await answer()
    assert bot.fake.message(CHANNEL, status["ts"]) is None
    [deleted] = bot.fake.calls_to("files.delete")
    assert deleted.args["file"] == job.origin["files"][0]
    # Re-post it from the library.
    await bot.command(f"show {job.id}")
    assert await answer() == f"Posted {job.id} again."
    assert "From the library" in bot.fake.calls_to("files.completeUploadExternal")[-1].args["initial_comment"]
    # A workspace admin may delete anyone's result.
    await bot.command("another fox")
    await answer()
    second = (await delivered(bot, 2))[1]
    ts = second.origin["status_ref"]
    await bot.interaction(press(bot, "sora_delete", second.id, "UBOSS", ts))
    assert "Deleted the result" in await answer()
    assert bot.fake.message(CHANNEL, ts) is None


async def test_remix_and_extend_where_the_model_offers_them(slack_settings, fake_slack, stand_in,
                                                            tmp_path) -> None:
    from bot import catalogue
    from tests.fakes.catalogues import REMIXING
    from tests.conftest import TEST_KEY

    models = tmp_path / "models.toml"
    models.write_text(REMIXING.format(base=stand_in.base_url))
    settings = slack_settings.with_(catalogue=catalogue.load(models, {"OAI_KEY": TEST_KEY}))
    async with running(settings, fake_slack) as bot:
        first, status = await first_result(bot, "a fox --model sora-remix")
        assert action_ids(status) == ["sora_edit", "sora_continue", "sora_remix", "sora_extend",
                                      "sora_delete"]
        await bot.interaction(press(bot, "sora_remix", first.id, "UANN", status["ts"]))
        await bot.fake.wait_for(lambda: bot.fake.calls_to("views.open"))
        view = opened_view(bot)
        assert [b["block_id"] for b in view["blocks"]] == ["prompt"]
        await bot.interaction(submit_view(view, "UANN", "a fox, in watercolour", "VREMIX"))
        await delivered(bot, 2)
        await bot.interaction(press(bot, "sora_extend", first.id, "UANN", status["ts"]))
        await bot.fake.wait_for(lambda: len(bot.fake.calls_to("views.open")) == 2)
        view = opened_view(bot)
        await bot.interaction(submit_view(view, "UANN", "the fox runs on", "VEXTEND"))
        jobs = await delivered(bot, 3)
    posts = [r for r in stand_in.state.requests if r.method == "POST"]
    assert posts[1].path.endswith(f"/videos/{first.task_id}/remix") and posts[1].body == {
        "prompt": "a fox, in watercolour"}
    assert posts[2].path.endswith("/videos/extensions")
    assert posts[2].body == {"video_id": first.task_id, "prompt": "the fox runs on", "seconds": "4"}
    assert [j.parent for j in jobs[1:]] == [first.id, first.id]
