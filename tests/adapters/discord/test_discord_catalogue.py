"""/sora's choices come from the model catalogue, so a model added in SORA_MODELS_FILE shows
up, with its own durations and prices, and makes videos with its own fields."""
from __future__ import annotations

from tests.fakes.discord import FakeDiscord


async def test_choices_and_jobs_follow_the_catalogue(bot, fake: FakeDiscord, stand_in, with_kling,
                                                     discord_settings) -> None:
    kling = with_kling(discord_settings)
    stand_in.state.catalogue = kling.catalogue  # the service serves it too
    async with bot(catalogue=kling.catalogue) as rt:
        models = await fake.autocomplete("sora", {"prompt": "a fox", "model": ""}, "model")
        durations = await fake.autocomplete("sora", {"prompt": "a fox", "model": "kling-v3",
                                                     "duration": ""}, "duration")
        resolutions = await fake.autocomplete("sora", {"prompt": "a fox", "model": "kling-v3",
                                                       "resolution": ""}, "resolution")
        await fake.wait_for(lambda: all(fake.callbacks(t) for t in (models, durations, resolutions)))
        token = await fake.slash("sora", {"prompt": "a fox", "model": "kling-v3", "duration": 10,
                                          "resolution": "1080p"})
        await fake.wait_for(fake.uploads)
        [job] = await rt.engine.jobs()

    def choices(token: str) -> list[dict]:
        [call] = fake.callbacks(token)
        assert call.json["type"] == 8  # an autocomplete answer
        return call.json["data"]["choices"]

    assert [c["value"] for c in choices(models)] == ["sora-2", "sora-2-pro", "kling-v3"]
    assert "720p $0.07/s, 1080p $0.11/s" in choices(models)[2]["name"]
    assert [c["value"] for c in choices(durations)] == [5, 10, 15]
    assert [c["name"] for c in choices(resolutions)] == ["720p ($0.07/s)", "1080p ($0.11/s)"]
    submit = stand_in.state.submits()[0]
    assert (submit["model"], submit["duration"], submit["mode"]) == ("kling-v3", 10, "pro")
    assert job.cost_micros == 1_100_000 and "$1.10" in fake.replies(token)[0]
