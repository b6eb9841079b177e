"""/sora-quota is for Manage Server only; refusals charge nothing; /sora-usage reports."""
from __future__ import annotations

from tests.fakes.discord import MANAGE_GUILD, MEMBER_PERMISSIONS, FakeDiscord

ADMIN = MEMBER_PERMISSIONS | MANAGE_GUILD


async def test_non_admin_cannot_change_budgets(bot, fake: FakeDiscord) -> None:
    async with bot() as rt:
        token = await fake.slash("sora-quota", {"daily": 100.0}, subcommand="set", user_id=42)
        await fake.wait_for(lambda: fake.callbacks(token))
        assert (await rt.budgets.quotas(str(fake.GUILD_ID))) == []
    assert "Manage Server" in fake.replies(token)[0]
    assert fake.callbacks(token)[0].json["data"]["flags"] & 64
    # the command is hidden from members by default too
    quota = next(c for c in fake.commands["global"] if c["name"] == "sora-quota")
    assert int(quota["default_member_permissions"]) == MANAGE_GUILD


async def test_budget_refusal_charges_nothing(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        token = await fake.slash("sora-quota", {"member": 42, "daily": 0.5}, subcommand="set",
                                 user_id=1, user_name="admin", permissions=ADMIN)
        await fake.wait_for(lambda: fake.callbacks(token))
        assert "<@42>" in fake.replies(token)[0] and "$0.50" in fake.replies(token)[0]

        token = await fake.slash("sora", {"prompt": "a dragon", "duration": 8}, user_id=42)
        await fake.wait_for(lambda: len(fake.replies(token)) == 1)
        assert (await rt.engine.jobs()) == []
        assert (await rt.store.totals()) == []

        usage = await fake.slash("sora-usage", user_id=42)
        await fake.wait_for(lambda: fake.replies(usage))
    refusal = fake.replies(token)[0]
    assert "costs $0.64" in refusal and "$0.50" in refusal
    callback = fake.callbacks(token)[0].json  # refused at once, privately, before any defer
    assert callback["type"] == 4 and callback["data"]["flags"] & 64
    assert stand_in.state.submits() == [] and fake.channel_posts() == []
    assert "You today: $0.00 of $0.50" in fake.replies(usage)[0]


async def test_invalid_combination_is_refused_at_once(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        token = await fake.slash("sora", {"prompt": "a city", "resolution": "1080p"})
        await fake.wait_for(lambda: fake.callbacks(token))
        assert (await rt.engine.jobs()) == []
    callback = fake.callbacks(token)[0].json
    assert callback["type"] == 4 and callback["data"]["flags"] & 64  # answered, not deferred
    assert "needs sora-2-pro" in callback["data"]["content"]
    assert stand_in.state.submits() == []


async def test_an_admin_settles_a_held_job(bot, fake: FakeDiscord, stand_in) -> None:
    stand_in.state.fail("submit", "drop")
    async with bot() as rt:
        await fake.slash("sora", {"prompt": "a lost heron"}, user_id=42)
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "unknown"]
        [job] = await fake.wait_for(_check)
        member = await fake.slash("sora-quota", {"job": job.id, "action": "charge"},
                                  subcommand="settle", user_id=42)
        admin = await fake.slash("sora-quota", {"job": job.id, "action": "charge"},
                                 subcommand="settle", user_id=1, permissions=ADMIN)
        await fake.wait_for(lambda: fake.replies(member) and fake.replies(admin))
        assert (await rt.store.ledger_state(job.id)) == "spent"
    assert "Manage Server" in fake.replies(member)[0]
    assert fake.replies(admin)[0] == f"{job.id}: Charged by an admin: the service made it."
