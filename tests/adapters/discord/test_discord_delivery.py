"""Delivery: shrinking to the upload limit, failures, re-roll, and a restart mid-job."""
from __future__ import annotations

import asyncio

from adapters import stand_in as stand_in_app
from bot import catalogue
from tests.fakes.catalogues import SMALLER_RENDITION
from tests.fakes.discord import FakeDiscord


async def test_video_over_the_limit_is_shrunk_to_fit(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.video_bytes = 60_000
    limit = 25_000
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a slow sunrise"}, attachment_size_limit=limit)
        upload = (await fake.wait_for(fake.uploads))[0]
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "delivered"]
        job = await fake.wait_for(_check)
        assert job[0].origin["filesize_limit"] == limit
    name, data = upload.files[0]
    assert len(data) <= limit and data != stand_in_app.padded_sample(60_000)
    assert data[4:8] == b"ftyp"  # still an MP4
    assert any("Shrinking" in c.content for c in fake.edits())


async def test_the_providers_smaller_rendition_is_posted_instead_of_shrinking(
        bot, fake: FakeDiscord, stand_in, tmp_path) -> None:
    """A model whose provider serves a smaller MP4 (`smaller_rendition`): that file is posted
    as it came, and nothing is re-encoded."""
    models = tmp_path / "models.toml"
    models.write_text(SMALLER_RENDITION)
    stand_in.state.video_bytes, stand_in.state.rendition_bytes = 60_000, 20_000
    async with bot(catalogue=catalogue.load(models, {})) as rt:
        await fake.slash("sora", {"prompt": "a slow sunrise"}, attachment_size_limit=25_000)
        [upload] = await fake.wait_for(fake.uploads)
        [job] = await fake.wait_for(lambda: _delivered(rt))
    assert upload.files == [(f"{job.id}.mp4", stand_in_app.padded_sample(20_000))]
    assert stand_in.state.renditions() == [job.task_id]
    lines = [c.content.splitlines()[-1] for c in fake.edits(job.origin["status_ref"])]
    assert any(line.startswith("📉 Fetching a smaller version") for line in lines)
    assert not any("Shrinking" in line for line in lines)
    assert lines[-1].startswith("✅ Done") and job.error is None
    assert [p.name for p in rt.settings.media_dir.iterdir()] == [f"{job.id}.mp4"]


async def _delivered(rt) -> list:
    return [j for j in await rt.engine.jobs() if j.status == "delivered"]


async def test_shrinking_is_one_at_a_time_and_says_so(bot, fake: FakeDiscord, stand_in) -> None:
    """Re-encoding is bounded (SORA_MAX_TRANSCODES): while another video holds the one
    encoder, this one waits its turn, and its status message says so."""
    stand_in.state.video_bytes = 60_000
    async with bot(max_transcodes=1) as rt:
        async with rt.chat.transcoder.turn():  # another video is being shrunk
            await fake.slash("sora", {"prompt": "a slow sunrise"}, attachment_size_limit=25_000)
            await fake.wait_for(lambda: any("Waiting to shrink" in c.content for c in fake.edits()))
            assert fake.uploads() == []
        await fake.wait_for(fake.uploads)
        # The upload is seen before its job is settled (an async store write after it).
        assert [(await rt.engine.wait(j.id)).status for j in await rt.engine.jobs()] == ["delivered"]


async def test_video_that_cannot_fit_is_reported_not_dropped(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a slow sunrise"}, attachment_size_limit=500)
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "delivered"]
        job = await fake.wait_for(_check)
    last = fake.edits()[-1].content
    assert "could not be shrunk" in last and f"{job[0].id}.mp4" in last
    assert fake.uploads() == []
    assert job[0].error == "The video is too large to upload here, even after shrinking."


async def test_failure_ends_the_status_message_and_charges_nothing(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.fail("submit", "402")
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a boat"})
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "failed"]
        job = await fake.wait_for(_check)
        await fake.wait_for(lambda: fake.edits() and fake.edits()[-1].content.splitlines()[-1].startswith("❌"))
        assert (await rt.store.ledger_state(job[0].id)) == "released"
    assert "out of credit" in fake.edits()[-1].content
    assert fake.uploads() == []


async def test_reroll_button_starts_a_new_job_for_whoever_presses(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a fox", "duration": 8}, user_id=42)
        await fake.wait_for(fake.uploads)
        first = (await rt.engine.jobs())[0]
        result = fake.messages_by_content("your video is ready")[0]
        token = await fake.press(f"sora:reroll:{first.id}", result, user_id=99, user_name="dave")
        await fake.wait_for(lambda: len(fake.uploads()) == 2)
        second = next(j for j in (await rt.engine.jobs()) if j.id != first.id)
    assert second.requester.user == "99" and second.request == first.request
    assert "estimated cost $0.64" in fake.replies(token)[0]
    assert len(stand_in.state.submits()) == 2


async def test_restart_mid_job_delivers_once(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.job_seconds = 1.5
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a lighthouse in a storm"})
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "submitted"]
        job = (await fake.wait_for(_check))[0]
    status_id = job.origin["status_ref"]
    assert fake.uploads() == []

    async with bot() as rt:  # same database, new process state
        await fake.wait_for(fake.uploads)
        async def _check():
            return (await rt.engine.job(job.id)).status == "delivered"
        await fake.wait_for(_check)
        await asyncio.sleep(0.2)
        assert (await rt.store.ledger_state(job.id)) == "spent"
    assert len(stand_in.state.submits()) == 1 and len(fake.uploads()) == 1
    assert fake.edits(status_id)[-1].content.splitlines()[-1].startswith("✅ Done")
    assert len([c for c in fake.channel_posts() if not c.files]) == 1  # the same status message


async def test_without_message_content_intent_it_still_runs(bot, fake: FakeDiscord, stand_in) -> None:
    fake.allow_message_content = False
    plain = fake.message("", fake.user(77, "bob"))
    async with bot():
        await fake.react(plain, "🎬", user_id=55)
        reply = (await fake.wait_for(fake.channel_posts))[0]
    assert [bool(i["intents"] & (1 << 15)) for i in fake.identifies] == [True, False]
    assert "Animate with Sora" in reply.content


async def test_a_deleted_status_message_is_posted_again(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.job_seconds = 1.0
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a kite"})
        async def _check():
            return (await rt.engine.jobs()) and (await rt.engine.jobs())[0].origin.get("status_ref")
        first = await fake.wait_for(_check)
        fake.messages.pop(int(first))  # a moderator deletes it mid-job
        await fake.wait_for(fake.uploads)
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "delivered"]
        job = await fake.wait_for(_check)
    statuses = [c for c in fake.channel_posts() if not c.files]
    assert len(statuses) == 2
    second = job[0].origin["status_ref"]
    assert second != first
    assert fake.edits(second)[-1].content.splitlines()[-1].startswith("✅ Done")


async def test_upstream_text_cannot_mention_or_format(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.fail("submit", "400-mention")
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a boat"})
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "failed"]
        await fake.wait_for(_check)
        await fake.wait_for(lambda: fake.edits() and "❌" in fake.edits()[-1].content)
    last = fake.edits()[-1]
    assert "@everyone" not in last.content and "@\u200beveryone" in last.content
    assert last.json["allowed_mentions"] == {"parse": []}


async def test_a_lost_upload_answer_posts_the_video_once(bot, fake: FakeDiscord, stand_in) -> None:
    """Discord made the message but its answer was lost: before trying again the bot looks
    in the channel, finds it, and posts nothing more. (Were it not found, the retry's nonce
    would make Discord answer with the first message.)"""
    fake.lose_upload_answers = 1
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a heron"})
        async def delivered() -> list:
            return [j for j in await rt.engine.jobs() if j.status == "delivered"]

        [job] = await fake.wait_for(delivered)
    [upload] = fake.uploads()
    assert upload.json["nonce"] == job.id and upload.json["enforce_nonce"] is True
    assert fake.find("GET", rf"/channels/{fake.CHANNEL_ID}/messages$")  # it looked
    posted = [m for m in fake.messages.values() if m["attachments"]]
    assert len(posted) == 1 and job.error is None
    assert fake.edits(job.origin["status_ref"])[-1].content.splitlines()[-1].startswith("✅ Done")


async def test_a_restart_after_posting_does_not_post_again(bot, fake: FakeDiscord, stand_in) -> None:
    """The process stopped after the upload and before recording it: the resumed delivery
    finds the video in the channel and only finishes the bookkeeping."""
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a crane"})

        async def delivered() -> list:
            return [j for j in await rt.engine.jobs() if j.status == "delivered"]

        [job] = await fake.wait_for(delivered)
        # Roll the record back to "posted, not yet recorded" as a kill -9 would leave it.
        await rt.store.update_job(job.id, status="downloaded")
        async with rt.store.db.connection() as tx:
            await tx.execute("UPDATE ledger SET state = 'reserved', settled_at = NULL")
    async with bot() as rt:
        async def redelivered():
            found = await rt.engine.job(job.id)
            return found if found is not None and found.status == "delivered" else None

        done = await fake.wait_for(redelivered)
        assert await rt.store.ledger_state(job.id) == "spent"
    assert len(fake.uploads()) == 1 and done.origin["deliveries"] == 2
