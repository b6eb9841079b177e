"""The creative loop against the fake Discord: edit and re-run through the form, continue in
the sequence's thread, stitch, confirm before an expensive job, delete, re-post."""
from __future__ import annotations

import struct

from adapters.stand_in import padded_sample
from bot import library
from tests.fakes.catalogues import REMIXING
from tests.fakes.discord import FakeDiscord

ADMIN = 1 << 5  # Manage Server


async def _first_result(fake: FakeDiscord, rt, prompt: str = "a fox", **options) -> tuple:
    await fake.slash("sora", {"prompt": prompt, **options}, user_id=42)
    await fake.wait_for(lambda: _jobs(rt, lambda j: j.status == "delivered"))
    job = (await rt.engine.jobs())[0]
    message = fake.messages[int(job.origin["result_id"])]
    return job, message


async def _jobs(rt, where=lambda j: True) -> list:
    """The jobs that satisfy `where` (the store is async: a check for wait_for)."""
    return [j for j in await rt.engine.jobs() if where(j)]


def _ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def test_edit_through_the_form_runs_the_edited_prompt_charged_to_the_presser(
        bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        first, result = await _first_result(fake, rt, "a fox in the snow", duration=8)
        assert f"sora:edit:{first.id}" in _ids(result)
        token = await fake.press(f"sora:edit:{first.id}", result, user_id=99, user_name="dave")
        form = await fake.modal(token)
        assert form["title"] == "Edit and run again"
        fields = {c["custom_id"]: c.get("value") for row in form["components"]
                  for c in (row.get("components") or [row.get("component")])}
        assert fields["prompt"] == "a fox in the snow" and fields["duration"] == "8"
        submit = await fake.submit_modal(token, {"prompt": "a fox in the rain"}, user_id=99,
                                         user_name="dave")
        second = await fake.wait_for(lambda: _jobs(
            rt, lambda j: j.id != first.id and j.status == "delivered"))
        second = second[0]
        totals = {t["user"]: t["spent_micros"] for t in await rt.store.totals()}
    assert second.request.prompt == "a fox in the rain" and second.request.duration == 8
    assert second.requester.user == "99" and second.parent == first.id
    assert totals == {"42": 640_000, "99": 640_000}
    assert stand_in.state.submits()[-1]["prompt"] == "a fox in the rain"
    assert f"edited from `{first.id}`" in fake.messages[int(second.origin["result_id"])]["content"]
    assert "estimated cost $0.64" in fake.replies(submit)[0]


async def test_continue_and_stitch_post_into_the_sequence_thread(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        first, result = await _first_result(fake, rt, "a boat leaves the harbour")
        token = await fake.press(f"sora:continue:{first.id}", result)
        assert (await fake.modal(token))["title"] == "Continue from the last frame"
        await fake.submit_modal(token, {"prompt": "the boat reaches the sea"})
        second = (await fake.wait_for(lambda: _jobs(
            rt, lambda j: j.id != first.id and j.status == "delivered")))[0]
        thread = int(first.origin["result_id"])  # a thread started from the first result
        assert thread in fake.threads
        assert second.origin["channel_id"] == thread and second.sequence == first.id
        frame_post = fake.thread_posts(thread)[0]
        name, data = frame_post.files[0]
        assert name == "last-frame.png" and struct.unpack(">II", data[16:24]) == (320, 180)
        submitted = stand_in.state.submits()[-1]
        assert submitted["prompt"] == "the boat reaches the sea"
        assert any(name in url for url in submitted.get("image_urls") or [submitted.get("input_reference")])
        assert any(c.files and c.files[0][0] == f"{second.id}.mp4" for c in fake.thread_posts(thread))
        # The last clip carries Stitch; it joins the sequence in the same thread.
        last = fake.messages[int(second.origin["result_id"])]
        assert f"sora:stitch:{second.id}" in _ids(last)
        stitch = await fake.press(f"sora:stitch:{second.id}", last)
        await fake.wait_for(lambda: any(c.files and c.files[0][0].startswith("stitched-")
                                        for c in fake.thread_posts(thread)))
        await fake.wait_for(lambda: fake.replies(stitch))
    assert "Stitched 2 clips" in fake.replies(stitch)[-1]
    assert len(stand_in.state.submits()) == 2  # stitching costs nothing


async def test_confirm_and_cancel_gate_the_reservation(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot(confirm_above_usd=0.5) as rt:
        cancel_token = await fake.slash("sora", {"prompt": "an expensive fox", "duration": 8})
        offer = await fake.wait_for(lambda: fake.callbacks(cancel_token))
        body = offer[0].json
        assert body["data"]["flags"] & 64 and "$0.64" in body["data"]["content"]
        ids = [c["custom_id"] for row in body["data"]["components"] for c in row["components"]]
        cancel = next(i for i in ids if ":cancel:" in i)
        assert await rt.engine.jobs() == [] and await rt.store.totals() == []
        message = fake.message(body["data"]["content"], fake.bot_user, store=False, flags=64,
                               components=body["data"]["components"])
        await fake.press(cancel, message)
        await fake.wait_for(lambda: any("Cancelled" in ((c.json or {}).get("data") or {}).get("content", "")
                                        for c in fake.find("POST", r"/interactions/\d+/.+/callback")))
        assert await rt.engine.jobs() == [] and stand_in.state.submits() == []

        token = await fake.slash("sora", {"prompt": "an expensive fox", "duration": 8})
        body = (await fake.wait_for(lambda: fake.callbacks(token)))[0].json
        ids = [c["custom_id"] for row in body["data"]["components"] for c in row["components"]]
        confirm = next(i for i in ids if ":confirm:" in i)
        message = fake.message(body["data"]["content"], fake.bot_user, store=False, flags=64,
                               components=body["data"]["components"])
        other = await fake.press(confirm, message, user_id=99, user_name="dave")
        await fake.wait_for(lambda: fake.replies(other))
        assert "Only the member who asked" in fake.replies(other)[0] and await rt.engine.jobs() == []
        mine = await fake.press(confirm, message)
        await fake.wait_for(lambda: fake.replies(mine))
        assert "estimated cost $0.64" in fake.replies(mine)[-1]
        job = (await rt.engine.jobs())[0]
        assert job.requester.user == "42" and await rt.store.ledger_state(job.id) in ("reserved", "spent")
        again = await fake.press(confirm, message)
        await fake.wait_for(lambda: fake.replies(again))
        assert "expired or was already answered" in fake.replies(again)[0]
        assert (await rt.engine.wait(job.id)).status == "delivered"
    assert len(stand_in.state.submits()) == 1


async def test_only_the_requester_or_an_admin_deletes_a_result(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        job, result = await _first_result(fake, rt)
        other = await fake.press(f"sora:delete:{job.id}", result, user_id=99, user_name="dave")
        await fake.wait_for(lambda: fake.replies(other))
        assert "Only the member who asked" in fake.replies(other)[0]
        assert int(result["id"]) in fake.messages and not fake.find("DELETE", r".*")
        mine = await fake.press(f"sora:delete:{job.id}", result)
        await fake.wait_for(lambda: fake.replies(mine))
        assert int(result["id"]) not in fake.messages
        # An admin may tidy up too.
        shown = await fake.slash("sora-show", {"job": job.id}, user_id=42)
        await fake.wait_for(lambda: fake.replies(shown))
        again = fake.messages_by_content("From the library")[0]
        admin = await fake.press(f"sora:delete:{job.id}", again, user_id=7, permissions=ADMIN)
        await fake.wait_for(lambda: fake.replies(admin))
        assert int(again["id"]) not in fake.messages


async def test_show_reposts_a_stored_video_and_says_when_it_was_pruned(bot, fake: FakeDiscord,
                                                                       stand_in) -> None:
    async with bot(keep_videos_days=0) as rt:
        job, _ = await _first_result(fake, rt)
        token = await fake.slash("sora-show", {"job": job.id})
        await fake.wait_for(lambda: fake.replies(token))
        assert fake.replies(token)[-1] == f"Posted {job.id} again."
        assert len(fake.uploads()) == 2 and f"{job.id}.mp4" == fake.uploads()[-1].files[0][0]
        assert await library.prune(rt.store, rt.settings) == [job.id]
        gone = await fake.slash("sora-show", {"job": job.id})
        await fake.wait_for(lambda: fake.replies(gone))
        missing = await fake.slash("sora-show", {"job": "job_000000000000"})
        await fake.wait_for(lambda: fake.replies(missing))
        assert await rt.store.ledger_state(job.id) == "spent"
    assert "was deleted on" in fake.replies(gone)[-1] and "SORA_KEEP_VIDEOS_DAYS" in fake.replies(gone)[-1]
    assert "no job job_000000000000" in fake.replies(missing)[-1]
    assert len(fake.uploads()) == 2


async def test_show_shrinks_within_the_transcoding_bound_and_says_so(bot, fake: FakeDiscord,
                                                                    stand_in) -> None:
    """A library re-post over the upload limit waits its turn like a job's delivery does."""
    stand_in.state.video_bytes = 60_000
    async with bot(max_transcodes=1) as rt:
        job, _ = await _first_result(fake, rt)  # the 10 MiB default: posted as it is
        async with rt.chat.transcoder.turn():  # another video is being shrunk
            token = await fake.slash("sora-show", {"job": job.id}, attachment_size_limit=25_000)
            await fake.wait_for(lambda: any("Waiting to shrink" in r for r in fake.replies(token)))
            assert len(fake.uploads()) == 1
        await fake.wait_for(lambda: f"Posted {job.id} again." in fake.replies(token))
        small = await fake.slash("sora-show", {"job": job.id}, attachment_size_limit=500)
        await fake.wait_for(lambda: any("could not be shrunk" in r for r in fake.replies(small)))
    [(name, data)] = fake.uploads()[-1].files
    assert name == f"{job.id}.mp4" and len(data) <= 25_000 and data[4:8] == b"ftyp"
    assert any(r.startswith("🗜️ Shrinking the video") for r in fake.replies(token))
    assert ("The video is 59 KB, over this server's 0 KB upload limit, and could not be shrunk "
            "to fit.") in fake.replies(small)
    assert len(fake.uploads()) == 2 and stand_in.state.renditions() == []
    assert [p.name for p in rt.settings.media_dir.iterdir()] == [f"{job.id}.mp4"]


async def test_show_posts_the_providers_smaller_rendition(bot, fake: FakeDiscord, stand_in,
                                                          tmp_path) -> None:
    from bot import catalogue
    from tests.fakes.catalogues import SMALLER_RENDITION

    models = tmp_path / "models.toml"
    models.write_text(SMALLER_RENDITION)
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 20_000
    async with bot(catalogue=catalogue.load(models, {})) as rt:
        job, _ = await _first_result(fake, rt)
        token = await fake.slash("sora-show", {"job": job.id}, attachment_size_limit=25_000)
        await fake.wait_for(lambda: f"Posted {job.id} again." in fake.replies(token))
    assert fake.uploads()[-1].files == [(f"{job.id}.mp4", padded_sample(20_000))]
    assert stand_in.state.renditions() == [job.task_id]
    assert any(r.startswith("📉 Fetching a smaller version") for r in fake.replies(token))
    assert [p.name for p in rt.settings.media_dir.iterdir()] == [f"{job.id}.mp4"]


async def test_remix_and_extend_use_the_providers_own_endpoints(bot, fake: FakeDiscord, stand_in,
                                                                tmp_path) -> None:
    from bot import catalogue
    from tests.conftest import TEST_KEY

    models = tmp_path / "models.toml"
    models.write_text(REMIXING.format(base=stand_in.base_url))
    async with bot(catalogue=catalogue.load(models, {"OAI_KEY": TEST_KEY})) as rt:
        first, result = await _first_result(fake, rt, "a fox", model="sora-remix")
        assert f"sora:remix:{first.id}" in _ids(result) and f"sora:extend:{first.id}" in _ids(result)
        token = await fake.press(f"sora:remix:{first.id}", result, user_id=99, user_name="dave")
        form = await fake.modal(token)
        assert [c["custom_id"] for row in form["components"]
                for c in (row.get("components") or [row.get("component")])] == ["prompt"]
        await fake.submit_modal(token, {"prompt": "a fox, in watercolour"}, user_id=99)
        remixed = (await fake.wait_for(lambda: _jobs(
            rt, lambda j: j.parent == first.id and j.status == "delivered")))[0]
        token = await fake.press(f"sora:extend:{first.id}", result)
        await fake.submit_modal(token, {"prompt": "the fox runs on", "duration": "8"})
        extended = (await fake.wait_for(lambda: _jobs(rt, lambda j: j.parent == first.id
                                                      and j.request.extend_of
                                                      and j.status == "delivered")))[0]
    posts = [r for r in stand_in.state.requests if r.method == "POST"]
    assert posts[1].path.endswith(f"/videos/{first.task_id}/remix")
    assert posts[1].body == {"prompt": "a fox, in watercolour"}
    assert posts[2].path.endswith("/videos/extensions")
    assert posts[2].body == {"video_id": first.task_id, "prompt": "the fox runs on", "seconds": "8"}
    assert remixed.requester.user == "99" and remixed.cost_micros == 400_000  # 4 s at $0.10
    assert extended.cost_micros == 800_000  # priced from the catalogue: 8 s at $0.10


async def test_an_expensive_reaction_points_to_the_menu_and_sends_nothing(bot, fake: FakeDiscord,
                                                                          stand_in) -> None:
    image = fake.attachment("cat.png", "image/png")
    target = fake.message("", fake.user(77, "bob"), attachments=[image])
    async with bot(confirm_above_usd=0.1) as rt:  # a reaction job is $0.32
        await fake.react(target, "🎬", user_id=55, user_name="carol")
        reply = (await fake.wait_for(fake.channel_posts))[0]
        assert await rt.engine.jobs() == []
    assert "$0.32" in reply.content and "Animate with Sora" in reply.content
    assert stand_in.state.submits() == []
