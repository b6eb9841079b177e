"""Image-to-video from the "Animate with Sora" context menu and from the reaction emoji."""
from __future__ import annotations

import asyncio

from tests.fakes.discord import FakeDiscord


def _image_message(fake: FakeDiscord, text: str = "a cat on a sofa") -> dict:
    return fake.message(text, fake.user(77, "bob"), attachments=[fake.attachment("cat.png")])


async def test_context_menu_animates_the_message_image(bot, fake: FakeDiscord, stand_in) -> None:
    target = _image_message(fake)
    async with bot() as rt:
        token = await fake.message_command("Animate with Sora", target, user_id=42)
        await fake.wait_for(fake.uploads)
        job = (await rt.engine.jobs())[0]

    submit = stand_in.state.submits()[0]
    assert submit["image_urls"] == [target["attachments"][0]["url"]]
    assert submit["prompt"] == "a cat on a sofa" and submit["model"] == "sora-2" and submit["duration"] == 4
    assert job.requester.user == "42"  # the member who asked pays, not the image's author
    assert "estimated cost $0.32" in fake.replies(token)[0]


async def test_reaction_animates_the_image_replying_to_it(bot, fake: FakeDiscord, stand_in) -> None:
    target = _image_message(fake, text="")
    async with bot() as rt:
        await fake.react(target, "🎬", user_id=55, user_name="carol")
        upload = (await fake.wait_for(fake.uploads))[0]
        await fake.react(target, "🎬", user_id=55, user_name="carol")  # removed and added again
        await fake.wait_for(lambda: len(fake.find("GET", rf"/channels/\d+/messages/{target['id']}")) == 2)
        await asyncio.sleep(0.1)
        [job] = await rt.engine.jobs()  # one video, paid once

    submit = stand_in.state.submits()[0]
    assert submit["image_urls"] == [target["attachments"][0]["url"]]
    assert submit["prompt"] == "Bring this image to life with gentle, natural motion."  # default prompt
    assert fake.find("GET", rf"/channels/{fake.CHANNEL_ID}/messages/{target['id']}")
    status = fake.channel_posts()[0]
    assert status.json["message_reference"]["message_id"] == int(target["id"])
    assert "<@55>" in upload.content
    assert (job.requester.team, job.requester.user, job.requester.name) == (str(fake.GUILD_ID), "55", "Carol")


async def test_reaction_without_an_image_says_why(bot, fake: FakeDiscord, stand_in) -> None:
    plain = fake.message("just text", fake.user(77, "bob"))
    async with bot():
        await fake.react(plain, "👍", user_id=55)  # another emoji: ignored
        await fake.react(plain, "🎬", user_id=55)
        reply = (await fake.wait_for(fake.channel_posts))[0]
        await asyncio.sleep(0.1)
    assert "no PNG, JPEG or WebP image" in reply.content and reply.content.startswith("<@55>")
    assert reply.json["message_reference"]["message_id"] == int(plain["id"])
    assert len(fake.channel_posts()) == 1 and stand_in.state.submits() == []


async def test_reaction_without_image_stays_quiet_when_turned_off(bot, fake: FakeDiscord, stand_in) -> None:
    plain = fake.message("just text", fake.user(77, "bob"))
    async with bot(reaction_explain_no_image=False):
        await fake.react(plain, "🎬", user_id=55)
        await fake.wait_for(lambda: fake.find("GET", r"/channels/\d+/messages/\d+"))
        await asyncio.sleep(0.1)
    assert fake.channel_posts() == [] and stand_in.state.submits() == []


async def test_three_quick_reactions_start_one_job(bot, fake: FakeDiscord, stand_in) -> None:
    """Three reactions at once pass every early check together; the store's unique key
    lets one job through, and the others start nothing and say nothing."""
    target = _image_message(fake)
    async with bot() as rt:
        await asyncio.gather(*(fake.react(target, "🎬", user_id=55) for _ in range(3)))
        await fake.wait_for(fake.uploads)
        await asyncio.sleep(0.2)
        [job] = await rt.engine.jobs()
        await rt.engine.wait(job.id)  # settled after its upload (an async store write)
        assert await rt.store.ledger_state(job.id) == "spent"
    assert len(stand_in.state.submits()) == 1 and len(fake.uploads()) == 1
