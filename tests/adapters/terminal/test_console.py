"""The console's reading of lines, in process (the pty tests cover a real terminal)."""
from __future__ import annotations

import io

from adapters.terminal import console
from adapters.terminal.cli import default_user
from bot.models import Requester, VideoRequest


async def _session(runtime, typed: str) -> str:
    out = io.StringIO()
    assert await console.serve(runtime, stdin=io.StringIO(typed), out=out) == 0
    return out.getvalue()


async def test_commands_in_any_case_and_escapes_never_become_prompts(runtime):
    shown = await _session(runtime, "HELP\nHelp\n\x1b[A\n\x1b]0;pwned\x07 a cat\nJOBS\nQuit\nnever read\n")
    assert shown.count("Commands: help, usage, jobs, quit") == 3  # once at start, twice asked
    assert shown.count("control characters (an arrow key?), so nothing was sent") == 2
    assert "No jobs yet." in shown
    assert (await runtime.engine.jobs()) == [] and not (await runtime.store.totals())


async def test_one_line_the_slack_grammar_and_one_line_errors(runtime):
    shown = await _session(runtime, "a dog's day at the beach --pro --portrait\n"
                                    "a cat --flux\na cat --duration\n")
    [job] = await runtime.engine.jobs()
    assert (job.request.prompt, job.request.model, job.request.aspect) == (
        "a dog's day at the beach", "sora-2-pro", "9:16")
    assert job.status == "delivered" and f"[{job.id}] done: " in shown
    errors = [line for line in shown.splitlines() if "--flux" in line or "needs a value" in line]
    assert len(errors) == 2 and errors[0].startswith("Unknown option --flux.")


async def test_stored_control_characters_are_shown_escaped(runtime):
    requester = Requester("console", "local", "ann")
    await runtime.engine.submit(VideoRequest(prompt="red \x1b[31mfox\x1b]0;title\x07"), requester,
                                console.ConsoleEvents(console.Screen(io.StringIO())))
    shown = await _session(runtime, "jobs\n")
    assert "\x1b" not in shown and "\x07" not in shown
    assert "red \\x1b[31mfox\\x1b]0;title\\x07" in shown


async def test_an_expensive_line_waits_for_y(runtime):
    await runtime.budgets.set("local", default_user(), daily=50, by="admin", via="cli")
    pro = "a long pro shot --pro --resolution 1080p --duration 20\n"  # $11.20
    shown = await _session(runtime, pro + "n\n" + pro + "y\n")
    assert shown.count("This video costs $11.20, more than $2.00") == 2
    assert shown.count("Cancelled; nothing was sent.") == 1
    [job] = await runtime.engine.jobs()
    assert job.cost_micros == 11_200_000 and job.request.duration == 20


async def test_a_job_another_process_holds_is_left_to_it(runtime):
    """A console started beside a live process (a second console, `resume`) leaves that
    process's jobs alone, and says so."""
    requester = Requester("console", "local", "ann")
    accepted = await runtime.engine.submit(VideoRequest(prompt="a held fox"), requester,
                                           console.ConsoleEvents(console.Screen(io.StringIO())))
    await runtime.engine.wait(accepted.job.id)
    async with runtime.store.db.connection() as tx:  # as another process's live job would be
        await tx.execute("UPDATE jobs SET status = 'submitted', owner = 'elsewhere:1:x', "
                         "lease_until = ? WHERE id = ?", [4e9, accepted.job.id])
    shown = await _session(runtime, "quit\n")
    assert "1 unfinished job(s) are held by another process" in shown
    assert (await runtime.engine.job(accepted.job.id)).status == "submitted"  # untouched
