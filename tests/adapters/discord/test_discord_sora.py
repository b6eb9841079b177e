"""/sora end to end: real discord.py against the fake Discord, real engine against the stand-in."""
from __future__ import annotations

from adapters import stand_in as stand_in_app
from tests.fakes.discord import FakeDiscord


async def test_sora_defers_shows_progress_and_uploads_the_mp4(bot, fake: FakeDiscord, stand_in) -> None:
    async with bot() as rt:
        token = await fake.slash("sora", {"prompt": "a cat surfing a wave", "duration": 8})
        upload = (await fake.wait_for(fake.uploads))[0]
        async def _check():
            return [j for j in (await rt.engine.jobs()) if j.status == "delivered"]
        job = await fake.wait_for(_check)
        assert (await rt.store.ledger_state(job[0].id)) == "spent"

    callback = fake.callbacks(token)[0].json
    assert callback["type"] == 5 and callback["data"]["flags"] & 64  # deferred, ephemeral
    reply = fake.replies(token)[0]
    assert "estimated cost $0.64" in reply and "$4.36 left for you today" in reply

    status_post = fake.channel_posts()[0]
    assert "a cat surfing a wave" in status_post.content and "<@42>" in status_post.content
    status_id = fake.messages_by_content("a cat surfing a wave")[0]["id"]
    edits = [c.content.splitlines()[-1] for c in fake.edits(status_id)]
    assert any(e.startswith("🎞️ Generating") for e in edits), edits
    assert any("Uploading" in e for e in edits)
    assert edits[-1] == f"✅ Done: https://discord.com/channels/{fake.GUILD_ID}/{fake.CHANNEL_ID}/{upload_id(fake)}"

    assert upload.files[0][1] == stand_in_app.padded_sample(stand_in.state.video_bytes)
    assert upload.files[0][0].endswith(".mp4")
    for part in ("<@42>", "a cat surfing a wave", "sora-2", "8 s", "$0.64"):
        assert part in upload.content
    assert upload.json["allowed_mentions"]["users"] == [42]
    buttons = [c["custom_id"] for row in upload.json["components"] for c in row["components"]]
    assert buttons == [f"sora:{a}:{job[0].id}" for a in ("reroll", "pro", "edit", "continue", "delete")]

    assert len(stand_in.state.submits()) == 1
    assert job[0].requester.team == str(fake.GUILD_ID) and job[0].requester.user == "42"


def upload_id(fake: FakeDiscord) -> str:
    return next(m["id"] for m in fake.messages.values() if m["attachments"] and m["author"]["bot"])
