"""/sora's flags, form and help come from the model catalogue: a model added in
SORA_MODELS_FILE is offered and makes videos with its own fields."""
from __future__ import annotations

import json

from tests.adapters.slack.conftest import running
from tests.fakes.slack import FakeSlack


async def test_flags_form_and_help_follow_the_catalogue(slack_settings, fake_slack: FakeSlack,
                                                        stand_in, with_kling) -> None:
    settings = with_kling(slack_settings)
    stand_in.state.catalogue = settings.catalogue
    async with running(settings, fake_slack) as bot:
        await bot.command("help")
        await bot.command("")  # the form
        await bot.command("a fox --model kling-v3 --resolution 1080p --aspect 1:1")
        replies = await bot.replies(2)
        [job] = await bot.rt.engine.jobs()
        job = await bot.rt.engine.wait(job.id)
    assert "kling-v3: 5, 10 or 15 s; 720p $0.07/s, 1080p $0.11/s" in replies[0]
    [view] = [c.args["view"] for c in fake_slack.calls_to("views.open")]
    view = view if isinstance(view, dict) else json.loads(view)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert [o["value"] for o in blocks["model"]["element"]["options"]] == ["sora-2", "sora-2-pro", "kling-v3"]
    assert "15" in [o["value"] for o in blocks["duration"]["element"]["options"]]
    assert "1:1" in [o["value"] for o in blocks["aspect"]["element"]["options"]]
    submit = stand_in.state.submits()[0]
    assert (submit["model"], submit["duration"], submit["mode"], submit["aspect_ratio"]) == (
        "kling-v3", 5, "pro", "1:1")  # kling-v3's own default duration
    assert job.status == "delivered" and job.cost_micros == 550_000
    assert "estimated cost $0.55" in replies[1]
