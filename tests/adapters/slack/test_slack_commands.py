"""/sora over HTTP mode: signed requests to bolt's real web app, the fake Slack Web API and
the APIMaster stand-in."""
from __future__ import annotations

import logging
import time

from adapters.stand_in import sample_mp4
from tests.adapters.conftest import free_port
from tests.adapters.slack.conftest import CHANNEL, Bot, command_payload, running
from tests.conftest import TEST_KEY
from tests.fakes.slack import TEAM_ID


async def _job_id(bot: Bot, prompt: str | None = None) -> str:
    jobs = [j for j in (await bot.rt.engine.jobs(team=TEAM_ID)) if prompt in (None, j.request.prompt)]
    assert len(jobs) == 1
    return jobs[0].id


async def test_sora_posts_progress_then_uploads_the_mp4(bot: Bot, stand_in) -> None:
    started = time.monotonic()
    resp = await bot.command("a red fox running --duration 8 through snow")
    assert resp.status == 200 and time.monotonic() - started < 3
    reply = (await bot.replies())[0]
    assert "estimated cost $0.64" in reply and "$4.36 left for you today" in reply

    job = await bot.rt.engine.wait(await _job_id(bot))
    assert job.status == "delivered" and job.error is None
    assert job.requester.user == "UANN" and job.requester.team == TEAM_ID
    assert (await bot.rt.store.ledger_state(job.id)) == "spent"
    assert stand_in.state.submits()[0]["prompt"] == "a red fox running through snow"

    posts = bot.fake.calls_to("chat.postMessage")
    assert len(posts) == 1 and posts[0].args["channel"] == CHANNEL
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])
    assert status is not None
    edits = "\n".join(status["edits"])
    assert "Queued" in edits and "Uploading" in edits
    assert "Done" in status["text"] and "<@UANN>" in status["text"]

    [upload_call] = bot.fake.calls_to("upload")
    assert bot.fake.uploads[upload_call.args["file_id"]] == sample_mp4()
    [complete] = bot.fake.calls_to("files.completeUploadExternal")
    comment = complete.args["initial_comment"]
    assert complete.args["channel_id"] == CHANNEL
    for part in ("<@UANN>", "a red fox running through snow", "sora-2", "8 s", "$0.64"):
        assert part in comment


async def test_bad_flags_are_ephemeral_and_nothing_is_stored(bot: Bot, stand_in) -> None:
    await bot.command("a cat --fast")
    await bot.command("a cat --resolution 1080p")
    replies = await bot.replies(2)
    assert "Unknown option --fast" in replies[0] and "--pro" in replies[0]
    assert "needs sora-2-pro" in replies[1]
    assert bot.fake.responses[0]["response_type"] == "ephemeral"
    assert (await bot.rt.engine.jobs(team=TEAM_ID)) == [] and stand_in.state.submits() == []


async def test_failed_job_ends_the_progress_message_and_charges_nothing(bot: Bot, stand_in) -> None:
    stand_in.state.fail("submit", "400")
    await bot.command("a cat")
    job = await bot.rt.engine.wait(await _job_id(bot))
    assert job.status == "failed" and (await bot.rt.store.ledger_state(job.id)) == "released"
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])
    assert status is not None and status["text"].splitlines()[-1].startswith("❌ ")
    assert "Nothing was charged" in status["text"] and "Traceback" not in status["text"]
    assert bot.fake.calls_to("files.completeUploadExternal") == []


async def test_upstream_text_is_scrubbed_and_escaped(bot: Bot, stand_in, caplog) -> None:
    """An upstream error that quotes the API key, or carries mentions, is data: the key is
    never shown, stored or logged, and nothing in it pings anyone."""
    caplog.set_level(logging.DEBUG)
    stand_in.state.fail("submit", "400-echo")
    await bot.command("a cat")
    echoed = await bot.rt.engine.wait(await _job_id(bot))
    stand_in.state.fail("submit", "400-mention")
    await bot.command("a dog")
    mentioned = await bot.rt.engine.wait(await _job_id(bot, "a dog"))

    shown = bot.fake.message(CHANNEL, echoed.origin["status_ref"])["text"]
    assert "Bearer ***" in shown and TEST_KEY not in shown
    assert TEST_KEY not in (echoed.error or "") and "***" in (echoed.error or "")
    async with bot.rt.store.db.connection() as tx:
        row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", [echoed.id])
    assert row is not None and all(TEST_KEY not in str(v) for v in row.values())
    assert TEST_KEY not in caplog.text

    shown = bot.fake.message(CHANNEL, mentioned.origin["status_ref"])["text"]
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "&lt;@U0BOSS&gt;" in shown


async def test_a_refused_upload_is_shown_and_recorded(bot: Bot) -> None:
    bot.fake.fail["files.completeUploadExternal"] = "not_in_channel"
    await bot.command("a cat")
    job = await bot.rt.engine.wait(await _job_id(bot))
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])
    assert "Slack refused the upload (not_in_channel)" in status["text"]
    assert (job.status, job.error) == ("delivered", "Slack refused the upload (not_in_channel).")
    assert (await bot.rt.store.ledger_state(job.id)) == "spent"  # made and paid for upstream


async def test_bad_or_stale_signature_gets_401(bot: Bot) -> None:
    assert (await bot.command("a cat", secret="wrong-secret")).status == 401
    assert (await bot.command("a cat", timestamp=int(time.time()) - 600)).status == 401
    async with bot.http.post(f"{bot.url}/slack/events", data=b"command=/sora&text=x") as resp:
        assert resp.status == 401
    assert bot.fake.responses == [] and (await bot.rt.engine.jobs()) == []


async def test_one_server_holds_slack_health_and_the_dashboard(bot: Bot) -> None:
    """Slack's HTTP server on PORT is the bot's one server: health and the admin console
    are on it too, next to /slack/events."""
    async with bot.http.get(f"{bot.url}/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True
    async with bot.http.get(f"{bot.url}/readyz") as resp:
        assert resp.status == 200
    async with bot.http.get(f"{bot.url}/metrics") as resp:  # from loopback, no token set
        assert resp.status == 200 and "sora_jobs_total" in await resp.text()
    async with bot.http.get(f"{bot.url}/", allow_redirects=False) as resp:
        assert resp.status in (401, 403) and "admin-link" in await resp.text()  # sign in first


async def test_usage_jobs_and_help(bot: Bot) -> None:
    await bot.command("usage")
    await bot.command("help")
    await bot.command("jobs")
    usage, help_text, jobs = await bot.replies(3)
    assert "You today: $0.00 of $5.00" in usage
    assert "--portrait" in help_text and ":clapper:" in help_text
    assert jobs == "You have no videos yet."


async def test_non_admin_cannot_change_budgets(bot: Bot) -> None:
    await bot.command("quota set <@UANN|ann> --daily 100", user="UANN")
    await bot.command("quota show", user="UANN")
    refused = await bot.replies(2)
    assert all("Only workspace admins" in r for r in refused)
    assert (await bot.rt.budgets.quotas(TEAM_ID)) == []

    await bot.command("quota set <@UANN|ann> --daily 1.5", user="UBOSS")
    await bot.command("quota set --team --monthly 40", user="UBOSS")
    replies = await bot.replies(4)
    assert "$1.50/day" in replies[2] and "$40.00/month" in replies[3]
    quotas = {q["user"]: q for q in (await bot.rt.budgets.quotas(TEAM_ID))}
    assert quotas["UANN"]["daily_micros"] == 1_500_000 and quotas[""]["monthly_micros"] == 40_000_000
    # The new cap applies: a $0.32 video... fits, then usage says what is left.
    await bot.command("usage", user="UANN")
    assert "of $1.50" in (await bot.replies(5))[4]


async def test_admin_from_settings_list(bot: Bot, slack_settings) -> None:
    bot.rt.settings = slack_settings.with_(slack_admin_user_ids=frozenset({"UANN"}))
    # The context reads settings from the runtime, so the list applies at once.
    await bot.command("quota set --user UANN --daily 2", user="UANN")
    assert "$2.00/day" in (await bot.replies())[0]


async def test_channel_without_the_bot_is_explained_and_nothing_is_sent(bot: Bot, stand_in) -> None:
    bot.fake.fail["chat.postMessage"] = "not_in_channel"
    await bot.command("a cat")
    replies = await bot.replies(2)
    assert any("/invite" in r and "Nothing was charged" in r for r in replies)
    [job] = await bot.rt.engine.jobs(team=TEAM_ID)
    job = await bot.rt.engine.wait(job.id)
    assert job.status == "failed" and (await bot.rt.store.ledger_state(job.id)) == "released"
    assert stand_in.state.submits() == []
    await bot.command("jobs")
    listing = (await bot.replies(3))[2]
    assert job.id in listing and "failed" in listing and "a cat" in listing


async def test_secrets_never_reach_logs_or_messages(bot: Bot, stand_in, caplog) -> None:
    import logging

    from tests.adapters.slack.conftest import PNG, SECRET, reaction
    from tests.conftest import TEST_KEY
    from tests.fakes.slack import BOT_TOKEN

    caplog.set_level(logging.DEBUG)
    stand_in.state.fail("poll", "generation")
    await bot.command("a cat")
    f = bot.fake.add_file("cat.png", "image/png", PNG)
    ts = bot.fake.add_message(CHANNEL, "UANN", "cat", [bot.fake.file_object(f)])
    await bot.event(reaction("UANN", CHANNEL, ts))
    async def _check():
        return len((await bot.rt.engine.jobs())) == 2
    await bot.fake.wait_for(_check)
    for job in await bot.rt.engine.jobs():
        await bot.rt.engine.wait(job.id)
    shown = repr([c.args for c in bot.fake.calls]) + repr(bot.fake.messages)
    for secret in (BOT_TOKEN, SECRET, TEST_KEY):
        assert secret not in caplog.text and secret not in shown


async def test_a_replayed_slash_command_starts_nothing_new(bot: Bot, stand_in) -> None:
    body = command_payload(bot.fake, "a replayed fox")
    assert (await bot.replay(body)).status == 200
    assert (await bot.replay(body)).status == 200  # same trigger_id, signed again
    replies = await bot.replies(2)
    assert "estimated cost $0.32" in replies[0]
    assert replies[1] == "That request was already received; nothing new was started or charged."
    job = await bot.rt.engine.wait(await _job_id(bot))
    assert job.status == "delivered" and len(stand_in.state.submits()) == 1


async def test_a_lost_submit_is_held_shown_and_settled_by_an_admin(bot: Bot, stand_in) -> None:
    stand_in.state.fail("submit", "drop")
    await bot.command("a lost heron")
    job = await bot.rt.engine.wait(await _job_id(bot))
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])["text"]
    assert "may have made this video" in status and "$0.32 is held" in status
    assert "Nothing was charged" not in status
    await bot.command("usage")
    await bot.command(f"release {job.id}")  # ann is no admin
    await bot.command(f"release {job.id}", user="UBOSS")
    replies = await bot.replies(4)
    assert "Held: $0.32 for 1 video(s)" in replies[1]
    assert "Only workspace admins" in replies[2]
    assert replies[3] == f"{job.id}: Released by an admin: the service did not make it."
    assert (await bot.rt.store.ledger_state(job.id)) == "released"
    assert len(stand_in.state.submits()) == 1


async def test_a_retry_reaching_another_replica_starts_nothing_new(slack_settings, fake_slack, stand_in) -> None:
    """Two replicas behind a load balancer, each with its own store on the one database:
    Slack's retry of a command lands on the other replica, which starts and charges nothing."""
    other_port = free_port()
    other = slack_settings.with_(port=other_port, public_base_url=f"http://127.0.0.1:{other_port}")
    async with running(slack_settings, fake_slack) as first, running(other, fake_slack) as second:
        body = command_payload(first.fake, "a fox seen twice")
        assert (await first.replay(body)).status == 200
        await first.replies(1)  # Slack retries seconds later, when no answer came in time
        assert (await second.replay(body)).status == 200  # the same trigger_id, elsewhere
        replies = await first.replies(2)
        assert "estimated cost $0.32" in replies[0]
        assert replies[1] == "That request was already received; nothing new was started or charged."
        job = await first.rt.engine.wait(await _job_id(first))
        assert job.status == "delivered" and len(stand_in.state.submits()) == 1
        assert [t["jobs"] for t in await second.rt.store.totals()] == [1]


async def test_an_upload_that_fails_on_the_network_is_retried_once_posted(bot: Bot) -> None:
    bot.fake.drop_uploads = 1
    await bot.command("a crane")
    job = await bot.rt.engine.wait(await _job_id(bot))
    assert (job.status, job.error) == ("delivered", None)
    shared = [m for m in bot.fake.messages[CHANNEL] if m.get("files")]
    assert len(shared) == 1 and shared[0]["files"][0]["name"] == f"sora-{job.id}.mp4"
    status = bot.fake.message(CHANNEL, job.origin["status_ref"])["text"]
    assert status.splitlines()[-1].startswith("✅ Done")


async def test_a_restart_after_posting_does_not_post_again(slack_settings, fake_slack) -> None:
    async with running(slack_settings, fake_slack) as bot:
        await bot.command("a crane")
        job = await bot.rt.engine.wait(await _job_id(bot))
        await bot.rt.store.update_job(job.id, status="downloaded")  # as a kill -9 after posting leaves it
        async with bot.rt.store.db.connection() as tx:
            await tx.execute("UPDATE ledger SET state = 'reserved', settled_at = NULL")
    async with running(slack_settings, fake_slack) as bot:  # resumes the job as it starts
        assert (await bot.rt.engine.wait(job.id)).status == "delivered"
        assert await bot.rt.store.ledger_state(job.id) == "spent"
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


async def test_uploads_stream_from_disk_a_few_at_a_time(slack_settings, fake_slack, stand_in) -> None:
    """Eight videos finish together and Slack takes its time with each: at most four
    uploads are in flight, each streamed whole from its file."""
    fake_slack.upload_seconds = 0.3
    stand_in.state.video_bytes = 3_000_000
    async with running(slack_settings.with_(max_jobs_per_user=8), fake_slack) as bot:
        for n in range(8):
            await bot.command(f"clip {n}")
        jobs = [await bot.rt.engine.wait(j.id) for j in await bot.rt.engine.jobs(team=TEAM_ID)]
    assert [j.status for j in jobs] == ["delivered"] * 8
    assert fake_slack.most_uploads_at_once == 4
    assert sorted(len(data) for data in fake_slack.uploads.values()) == [3_000_000] * 8
