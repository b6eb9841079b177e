"""/sora-admin answers Manage Server members privately with a sign-in link to the server's
dashboard; budget alerts land in SORA_ALERT_CHANNEL_DISCORD; /sora-quota is audited."""
from __future__ import annotations

from aiohttp import web

from adapters.dashboard import build_app
from tests.adapters.conftest import free_port
from tests.adapters.dashboard.conftest import browser_like, sign_in
from tests.fakes.discord import MANAGE_GUILD, MEMBER_PERMISSIONS, FakeDiscord

ADMIN = MEMBER_PERMISSIONS | MANAGE_GUILD
ALERTS = FakeDiscord.CHANNEL_ID  # a channel of the fake's one server


def _alerts(fake: FakeDiscord) -> list[str]:
    return [c.content for c in fake.channel_posts() if c.content.startswith("Budget alert")]


async def test_sora_admin_gives_admins_a_link_to_their_server(bot, fake: FakeDiscord) -> None:
    port = free_port()
    async with bot(port=port) as rt:
        refused = await fake.slash("sora-admin", user_id=42)
        token = await fake.slash("sora-admin", user_id=1, user_name="admin", permissions=ADMIN)
        await fake.wait_for(lambda: fake.replies(token) and fake.replies(refused))
        runner = web.AppRunner(build_app(rt))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            url = fake.replies(token)[0].splitlines()[-1]
            async with browser_like() as browser:
                assert f"Team {fake.GUILD_ID}" in await sign_in(browser, url)
        finally:
            await runner.cleanup()
    assert url.startswith(f"http://127.0.0.1:{port}/login/")
    flags = fake.callbacks(token)[0].json["data"]["flags"]
    assert flags & 64 and flags & 4  # ephemeral, and no link preview
    assert "Manage Server" in fake.replies(refused)[0] and "/login/" not in fake.replies(refused)[0]
    command = next(c for c in fake.commands["global"] if c["name"] == "sora-admin")
    assert int(command["default_member_permissions"]) == MANAGE_GUILD


async def test_alerts_reach_the_admin_channel_once(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot(alert_channel_discord=str(ALERTS)) as rt:
        token = await fake.slash("sora-quota", {"member": 42, "daily": 0.40}, subcommand="set",
                                 user_id=1, user_name="admin", permissions=ADMIN)
        await fake.wait_for(lambda: fake.replies(token))
        first = await fake.slash("sora", {"prompt": "a fox", "duration": 4}, user_id=42)  # 80%
        await fake.wait_for(lambda: _alerts(fake))
        await rt.engine.wait((await rt.engine.jobs())[0].id)
        for _ in range(2):  # refused twice: "used up" is said once
            refused = await fake.slash("sora", {"prompt": "a fox", "duration": 4}, user_id=42)
            await fake.wait_for(lambda: fake.replies(refused))
        await fake.wait_for(lambda: len(_alerts(fake)) >= 2)
        await rt.budgets.alerts.drain()
        audit = await rt.budgets.audit_log(str(fake.GUILD_ID))
    posts = _alerts(fake)
    assert len(posts) == 2, posts
    assert "<@42>'s daily budget is at 80% ($0.32 of $0.40)" in posts[0]
    assert "<@42>'s daily budget has $0.08 left of $0.40: a $0.32 video was refused" in posts[1]
    assert all("/budgets" in p for p in posts)
    assert fake.replies(first)
    assert [(a["actor"], a["front_end"], a["user"], a["new_daily_micros"]) for a in audit] == [
        ("1", "discord", "42", 400_000)]


async def test_an_alert_channel_of_another_server_gets_nothing(bot, fake: FakeDiscord, stand_in,
                                                               caplog) -> None:
    async with bot(alert_channel_discord="4444") as rt:  # not a channel of this server
        await rt.budgets.set(str(fake.GUILD_ID), "42", daily=0.40, by="1", via="discord")
        token = await fake.slash("sora", {"prompt": "a fox", "duration": 4}, user_id=42)  # 80%
        await fake.wait_for(lambda: fake.replies(token))
        await rt.engine.wait((await rt.engine.jobs())[0].id)
        await rt.budgets.alerts.drain()
    assert fake.find("POST", r"/channels/4444/messages") == [] and _alerts(fake) == []
    assert "not a channel of that server" in caplog.text
