"""/sora with an image, /sora-jobs, /sora-quota show|clear, and no secret in the logs."""
from __future__ import annotations

import logging

import pytest

from tests.adapters.conftest import DISCORD_TOKEN
from tests.conftest import TEST_KEY
from tests.fakes.discord import MANAGE_GUILD, MEMBER_PERMISSIONS, FakeDiscord


async def test_sora_with_image_option_and_jobs_listing(bot, fake: FakeDiscord, stand_in,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    image = fake.attachment("dog.jpg", "image/jpeg")
    async with bot(confirm_above_usd=None) as rt:  # $2.24: no Confirm step in this test
        await fake.slash("sora", {"prompt": "the dog runs", "image": image["id"],
                                  "model": "sora-2-pro", "resolution": "1080p"}, attachments=[image])
        await fake.wait_for(fake.uploads)
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "delivered"]
        job = await fake.wait_for(_check)
        listing = await fake.slash("sora-jobs")
        await fake.wait_for(lambda: fake.replies(listing))
    submit = stand_in.state.submits()[0]
    assert submit["image_urls"] == [image["url"]] and submit["resolution"] == "1080p"
    line = fake.replies(listing)[0]
    assert f"`{job[0].id}` delivered" in line and "sora-2-pro · 4 s" in line and "the dog runs" in line
    assert DISCORD_TOKEN not in caplog.text and TEST_KEY not in caplog.text


async def test_admin_shows_and_clears_budgets(bot, fake: FakeDiscord) -> None:
    admin = {"user_id": 1, "permissions": MEMBER_PERMISSIONS | MANAGE_GUILD}
    async with bot() as rt:
        team = str(fake.GUILD_ID)
        for name, options in (("set", {"daily": 20.0, "monthly": 300.0}), ("show", {}), ("clear", {})):
            token = await fake.slash("sora-quota", options, subcommand=name, **admin)
            await fake.wait_for(lambda: fake.replies(token))
            if name == "set":
                assert (await rt.budgets.quotas(team))[0]["daily_micros"] == 20_000_000
            if name == "show":
                assert "The whole server: $20.00/day, $300.00/month" in fake.replies(token)[0]
        assert (await rt.budgets.quotas(team)) == []
    assert "cleared" in fake.replies(token)[0]


async def test_missing_channel_permissions_are_named(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        token = await fake.slash("sora", {"prompt": "a fox"}, app_permissions=1 << 10)  # view only
        await fake.wait_for(lambda: fake.replies(token))
        assert (await rt.engine.jobs()) == []
    assert "Attach Files, Send Messages" in fake.replies(token)[0]
