"""Image-to-video by reaction: the image is served at an unguessable public link, and that
link is what goes upstream in `image_urls`."""
from __future__ import annotations

from adapters.slack.media import NO_PUBLIC_URL_MESSAGE, SCOPE_MESSAGE
import asyncio

from bot.errors import AlreadyStarted
from bot.images import NO_IMAGE
from bot.settings import Settings
from tests.adapters.slack.conftest import CHANNEL, JPEG, PNG, Bot, reaction
from tests.fakes.slack import TEAM_ID

ALREADY_STARTED = AlreadyStarted.user_message


def _ephemerals(bot: Bot) -> list[dict]:
    return [c.args for c in bot.fake.calls_to("chat.postEphemeral")]


async def test_reaction_serves_the_image_and_sends_its_link(bot: Bot, stand_in) -> None:
    f = bot.fake.add_file("cat.png", "image/png", PNG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "look at my cat", [bot.fake.file_object(f)])
    resp = await bot.event(reaction("UBOSS", CHANNEL, ts))
    assert resp.status == 200
    async def _check():
        return await bot.rt.engine.jobs(team=TEAM_ID)
    await bot.fake.wait_for(_check)
    [job] = await bot.rt.engine.jobs(team=TEAM_ID)
    job = await bot.rt.engine.wait(job.id)
    assert job.status == "delivered" and job.requester.user == "UBOSS"  # the reactor pays
    assert (job.request.model, job.request.duration) == ("sora-2", 4)
    assert job.request.prompt == "look at my cat"  # the message's text is the prompt

    [submit] = stand_in.state.submits()
    [link] = submit["image_urls"]
    assert link.startswith(f"{bot.url}/media/") and link == job.request.image_url
    async with bot.http.get(link) as r:
        assert r.status == 200 and r.content_type == "image/png" and await r.read() == PNG

    # Everything lands in the message's thread.
    [post] = bot.fake.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == ts
    [complete] = bot.fake.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == ts and "<@UBOSS>" in complete.args["initial_comment"]
    [note] = _ephemerals(bot)
    assert note["user"] == "UBOSS" and "estimated cost $0.32" in note["text"]


async def test_reaction_on_a_thread_reply_with_a_stub_file(bot: Bot, stand_in) -> None:
    root = bot.fake.add_message(CHANNEL, "UANN", "thread root")
    f = bot.fake.add_file("dog.jpg", "image/jpeg", JPEG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "dog", [bot.fake.file_object(f, partial=True)], thread_ts=root)
    await bot.event(reaction("UANN", CHANNEL, ts))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("files.completeUploadExternal"))
    assert bot.fake.calls_to("files.completeUploadExternal")[0].args["thread_ts"] == root
    assert bot.fake.calls_to("files.info")
    assert stand_in.state.submits()[0]["image_urls"][0].startswith(f"{bot.url}/media/")


async def test_missing_files_read_scope_says_so(bot: Bot, stand_in) -> None:
    f = bot.fake.add_file("cat.png", "image/png", PNG, login_page=True)
    ts = bot.fake.add_message(CHANNEL, "UANN", "cat", [bot.fake.file_object(f)])
    await bot.event(reaction("UANN", CHANNEL, ts))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("chat.postEphemeral"))
    [note] = _ephemerals(bot)
    assert note["text"] == SCOPE_MESSAGE and "files:read" in note["text"]
    assert (await bot.rt.engine.jobs()) == [] and stand_in.state.submits() == []


async def test_other_emoji_and_duplicate_deliveries_are_ignored(bot: Bot, stand_in) -> None:
    f = bot.fake.add_file("cat.png", "image/png", PNG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "cat", [bot.fake.file_object(f)])
    await bot.event(reaction("UANN", CHANNEL, ts, emoji="thumbsup"), event_id="Ev1")
    await bot.event(reaction("UANN", CHANNEL, ts), event_id="Ev2")
    await bot.event(reaction("UANN", CHANNEL, ts), event_id="Ev2")  # Slack's retry
    await bot.fake.wait_for(lambda: bot.fake.calls_to("files.completeUploadExternal"))
    await bot.fake.wait_for(lambda: _ephemerals(bot))  # "Making your video ..."
    await bot.event(reaction("UANN", CHANNEL, ts), event_id="Ev3")  # removed and added again
    await bot.fake.wait_for(lambda: len(_ephemerals(bot)) == 2)
    assert _ephemerals(bot)[1]["text"] == ALREADY_STARTED
    assert len(stand_in.state.submits()) == 1 and len((await bot.rt.engine.jobs())) == 1


async def test_message_without_image_is_explained(bot: Bot) -> None:
    ts = bot.fake.add_message(CHANNEL, "UANN", "just words")
    await bot.event(reaction("UANN", CHANNEL, ts))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("chat.postEphemeral"))
    assert _ephemerals(bot)[0]["text"] == NO_IMAGE


async def test_without_public_base_url_says_what_to_set(slack_settings: Settings, fake_slack, stand_in) -> None:
    import aiohttp

    from adapters.slack import SlackService
    from bot.runtime import open_runtime

    settings = slack_settings.with_(public_base_url=None)
    async with open_runtime(settings) as rt, aiohttp.ClientSession() as http:
        service = SlackService(rt, host="127.0.0.1")
        await service.start()
        try:
            bot = Bot(service, fake_slack, http)
            f = fake_slack.add_file("cat.png", "image/png", PNG)
            ts = fake_slack.add_message(CHANNEL, "UANN", "cat", [fake_slack.file_object(f)])
            await bot.event(reaction("UANN", CHANNEL, ts))
            await fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))
            assert _ephemerals(bot)[0]["text"] == NO_PUBLIC_URL_MESSAGE
            assert "PUBLIC_BASE_URL" in NO_PUBLIC_URL_MESSAGE
            assert fake_slack.calls_to("download") == [] and stand_in.state.submits() == []
        finally:
            await service.stop()


async def test_over_budget_reaction_is_refused_before_fetching(bot: Bot, stand_in) -> None:
    await bot.rt.budgets.set(TEAM_ID, "UANN", daily=0.10, by="UBOSS", via="slack")
    f = bot.fake.add_file("cat.png", "image/png", PNG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "cat", [bot.fake.file_object(f)])
    await bot.event(reaction("UANN", CHANNEL, ts))
    await bot.fake.wait_for(lambda: bot.fake.calls_to("chat.postEphemeral"))
    text = _ephemerals(bot)[0]["text"]
    assert "costs $0.32" in text and "$0.10" in text
    assert bot.fake.calls_to("download") == [] and (await bot.rt.engine.jobs()) == []
    assert stand_in.state.submits() == []


async def test_three_quick_reactions_start_one_job(bot: Bot, stand_in) -> None:
    """Three events at once pass every early check together; the store's unique key lets one
    through and the others are told, with nothing charged."""
    f = bot.fake.add_file("cat.png", "image/png", PNG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "cat", [bot.fake.file_object(f)])
    await asyncio.gather(*(bot.event(reaction("UANN", CHANNEL, ts), event_id=f"EvQ{i}")
                           for i in range(3)))
    await bot.fake.wait_for(lambda: len(_ephemerals(bot)) == 3)
    texts = sorted(e["text"] for e in _ephemerals(bot))
    assert texts.count(ALREADY_STARTED) == 2 and "estimated cost $0.32" in texts[0]
    [job] = await bot.rt.engine.jobs()
    await bot.rt.engine.wait(job.id)
    assert len(stand_in.state.submits()) == 1
    assert [t["reserved_micros"] + t["spent_micros"] for t in (await bot.rt.store.totals())] == [320_000]
