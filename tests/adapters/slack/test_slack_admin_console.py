"""/sora admin answers admins privately with a sign-in link to the workspace's dashboard;
budget alerts land in SORA_ALERT_CHANNEL_SLACK; /sora quota is audited."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.dashboard import build_app
from bot.settings import Settings
from tests.adapters.conftest import free_port
from tests.adapters.dashboard.conftest import browser_like, sign_in
from tests.adapters.slack.conftest import Bot, running
from tests.fakes.slack import TEAM_ID, FakeSlack

ALERTS = "C0ADMINS"


@pytest.fixture
async def admin_bot(slack_settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    async with running(slack_settings.with_(alert_channel_slack=ALERTS), fake_slack) as bot:
        yield bot


async def test_sora_admin_gives_admins_a_link(admin_bot: Bot) -> None:
    bot = admin_bot
    await bot.command("admin", user="UANN")
    await bot.command("admin", user="UBOSS")
    refused, answer = await bot.replies(2)
    assert "Only workspace admins" in refused and "/login/" not in refused
    url = answer.splitlines()[-1]
    dashboard = web.AppRunner(build_app(bot.rt))  # the Slack server has the port; use another
    await dashboard.setup()
    port = free_port()
    await web.TCPSite(dashboard, "127.0.0.1", port).start()
    try:
        local = url.replace(bot.url, f"http://127.0.0.1:{port}")
        async with browser_like() as browser:
            assert f"Team {TEAM_ID}" in await sign_in(browser, local)
    finally:
        await dashboard.cleanup()
    assert url.startswith(f"{bot.url}/login/")  # under PUBLIC_BASE_URL
    assert all(r.get("response_type") == "ephemeral" for r in bot.fake.responses)


async def test_alerts_reach_the_admin_channel_once(admin_bot: Bot, stand_in) -> None:
    bot = admin_bot
    await bot.command("quota set --team --daily 0.40", user="UBOSS")
    await bot.command("a fox --duration 4", user="UANN")  # $0.32 of the team's $0.40: 80%
    await bot.replies(2)
    await bot.rt.engine.wait((await bot.rt.engine.jobs(team=TEAM_ID))[0].id)
    await bot.command("another fox --duration 4", user="UANN")  # refused: used up
    await bot.command("a third fox --duration 4", user="UANN")  # refused again: no new alert
    await bot.replies(4)
    await bot.rt.budgets.alerts.drain()
    posts = [c.args["text"] for c in bot.fake.calls_to("chat.postMessage") if c.args["channel"] == ALERTS]
    assert len(posts) == 2, posts
    assert "The team's daily budget is at 80% ($0.32 of $0.40)" in posts[0]
    assert "The team's daily budget has $0.08 left of $0.40: a $0.32 video was refused" in posts[1]
    [change] = await bot.rt.budgets.audit_log(TEAM_ID)
    assert (change["actor"], change["front_end"], change["user"], change["new_daily_micros"]) == (
        "UBOSS", "slack", "", 400_000)
