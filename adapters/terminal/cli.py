"""The `sora-bot` commands that need no chat platform: generate, usage, quota, jobs, resume,
fake-api, admin-link, dashboard. `adapters.main` adds `run` and is the console script's entry point."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from adapters import stand_in
from bot.budgets import KEEP
from bot.errors import InvalidRequest, SoraError
from bot.models import Job, Progress, Requester, VideoRequest, usd
from bot.runtime import Runtime
from bot.settings import Settings
from bot.validation import validate

PLATFORM = "cli"


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """The options of a video request, shared by `generate` and the console adapter."""
    parser.add_argument("prompt", nargs="+", help="what the video shows")
    parser.add_argument("--model", default="sora-2", help="sora-2 (default) or sora-2-pro")
    parser.add_argument("--duration", default="4", help="seconds: 4, 8, 12, 16 or 20")
    parser.add_argument("--resolution", default="720p", help="720p; sora-2-pro also 1024p, 1080p")
    parser.add_argument("--aspect", default=None, help="16:9 / landscape (default) or 9:16 / portrait")
    parser.add_argument("--image", default=None, help="public http(s) URL of a start image")


def request_from(args: argparse.Namespace) -> VideoRequest:
    return VideoRequest(prompt=" ".join(args.prompt), model=args.model, duration=args.duration,
                        resolution=args.resolution, aspect=args.aspect, image_url=args.image)


def build_parser() -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(prog="sora-bot", description="Make Sora 2 videos from chat.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="make one video from the terminal")
    add_request_options(gen)
    gen.add_argument("--user", default=None, help="who pays (default: your login name)")
    gen.add_argument("--team", default="local", help="team to charge (default: local)")
    gen.add_argument("--out", default=None, help="where to write the MP4")

    usage = sub.add_parser("usage", help="spend and budgets per user and team")
    usage.add_argument("--user")
    usage.add_argument("--team")
    usage.add_argument("--json", action="store_true", help="print a JSON list")

    quota = sub.add_parser("quota", help="set, clear or show budgets")
    qsub = quota.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action in ("set", "clear"):
        q = qsub.add_parser(action, help=f"{action} a budget for a user or a whole team")
        q.add_argument("--user", help="a member (within --team, default local)")
        q.add_argument("--team", help="the team (alone: the whole team's budget)")
        if action == "set":
            q.add_argument("--daily", type=_dollars, default=KEEP, help="dollars per UTC day")
            q.add_argument("--monthly", type=_dollars, default=KEEP, help="dollars per month")
    qsub.add_parser("show", help="list budgets")

    jobs = sub.add_parser("jobs", help="recent jobs")
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--limit", type=int, default=20)

    sub.add_parser("resume", help="finish every unfinished terminal job, then exit")

    link = sub.add_parser("admin-link", help="print a one-time sign-in link to the dashboard")
    link.add_argument("--team", default="local", help="the team it shows (default: local)")
    link.add_argument("--ttl", type=_seconds, default=None,
                      help="seconds the link works (default ADMIN_LINK_TTL, 600)")

    web = sub.add_parser("dashboard", help="run the admin dashboard alone")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=None, help="port (default PORT, 3000)")

    fake = sub.add_parser("fake-api", help="run the local APIMaster stand-in")
    fake.add_argument("--port", type=int, default=8123)
    fake.add_argument("--job-seconds", type=float, default=2.0, help="how long each job takes")
    return parser, sub


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 7 * 86400:
        raise argparse.ArgumentTypeError("a link lives between 1 second and 7 days")
    return value


def _dollars(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in dollars, e.g. 5 or 2.50") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a budget cannot be negative")
    return value


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run one core command; returns the exit code."""
    if args.command == "fake-api":
        await stand_in.serve_forever(args.port, stand_in.StandInState(job_seconds=args.job_seconds))
        return 0
    if args.command == "generate":
        try:  # bad input fails alone, before anything starts or prints
            validate(request_from(args), settings)
        except InvalidRequest as exc:
            print(f"error: {exc.user_message}", file=sys.stderr)
            return 2
        if settings.uses_stand_in:
            print(stand_in.NOTICE, file=sys.stderr)
        async with stand_in.open_runtime(settings) as rt:
            return await generate(rt, args)
    if args.command == "dashboard":
        from adapters import dashboard  # the web server, only for the command that runs it

        async with stand_in.open_runtime(settings) as rt:
            await dashboard.serve(rt, args.host, args.port)
        return 0
    async with stand_in.open_runtime(settings, calls_api=args.command == "resume") as rt:
        if args.command == "admin-link":
            return admin_link(rt, args)
        if args.command == "usage":
            return usage(rt, args)
        if args.command == "quota":
            return quota(rt, args)
        if args.command == "jobs":
            return jobs(rt, args)
        if args.command == "resume":
            return await resume(rt)
    raise AssertionError(args.command)


# -- generate / resume ---------------------------------------------------------------------

class TerminalEvents:
    """Progress on stderr; the finished MP4 moved to the job's `--out` path."""

    def __init__(self, out: str | None = None) -> None:
        self.out = out

    async def accepted(self, job: Job) -> None:
        print(f"{job.id}: accepted, {usd(job.cost_micros)} reserved", file=sys.stderr)

    async def progress(self, job: Job, progress: Progress) -> None:
        print(f"{job.id}: {progress.describe()}", file=sys.stderr)

    async def completed(self, job: Job, video: Path) -> None:
        if self.out:
            target = Path(self.out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(video, target)
            video = target
        print(video)

    async def failed(self, job: Job, error: SoraError) -> None:
        print(f"error: {error.user_message}", file=sys.stderr)


def _terminal_factory(job: Job) -> TerminalEvents:
    return TerminalEvents(job.origin.get("out"))


async def generate(rt: Runtime, args: argparse.Namespace) -> int:
    rt.engine.register(PLATFORM, _terminal_factory)
    requester = Requester(PLATFORM, args.team, args.user or default_user())
    out = str(Path(args.out).resolve()) if args.out else None
    try:
        accepted = await rt.engine.submit(request_from(args), requester, TerminalEvents(out),
                                          origin={"out": out})
    except SoraError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidRequest) else 1
    job = await rt.engine.wait(accepted.job.id)
    return 0 if job.status == "delivered" and not job.error else 1


async def resume(rt: Runtime) -> int:
    rt.engine.register(PLATFORM, _terminal_factory)
    rt.engine.register("console", _terminal_factory)
    resumed = await rt.engine.resume([PLATFORM, "console"])
    others = [j for j in rt.engine.jobs(limit=1000) if j.status not in ("delivered", "failed")
              and j.requester.platform not in (PLATFORM, "console")]
    if not resumed:
        print("No unfinished terminal jobs.", file=sys.stderr)
    finished = [await rt.engine.wait(job.id) for job in resumed]
    if others:
        print(f"{len(others)} Discord/Slack job(s) will resume when `sora-bot run` starts.",
              file=sys.stderr)
    return 0 if all(j.status == "delivered" for j in finished) else 1


# -- reports -------------------------------------------------------------------------------

def usage(rt: Runtime, args: argparse.Namespace) -> int:
    rows = []
    for t in rt.store.totals(team=args.team, user=args.user):
        status = rt.budgets.status(t["team"], t["user"])
        rows.append({
            "user": t["user"], "team": t["team"],
            "spent_usd": t["spent_micros"] / 1e6, "reserved_usd": t["reserved_micros"] / 1e6,
            "jobs": t["jobs"], "jobs_charged": t["jobs_spent"],
            "today_usd": status.usage.user_day / 1e6, "month_usd": status.usage.user_month / 1e6,
            "left_today_usd": None if status.left_today is None else status.left_today / 1e6,
            "last_job_at": t["last_job_at"],
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No spending recorded yet.")
    for r in rows:
        left = "no limit" if r["left_today_usd"] is None else f"${r['left_today_usd']:.2f}"
        print(f"{r['team']}/{r['user']}: spent ${r['spent_usd']:.2f}, reserved ${r['reserved_usd']:.2f}, "
              f"{r['jobs']} job(s); today ${r['today_usd']:.2f}, left today {left}")
    return 0


def quota(rt: Runtime, args: argparse.Namespace) -> int:
    if args.action == "show":
        d = rt.budgets.defaults
        print("Defaults: user daily {}, user monthly {}, team daily {}, team monthly {}".format(
            *(_cap(v) for v in (d.user_daily, d.user_monthly, d.team_daily, d.team_monthly))))
        for q in rt.budgets.quotas():
            who = f"{q['team']}/{q['user']}" if q["user"] else f"{q['team']} (whole team)"
            print(f"{who}: daily {_cap(q['daily_micros'], 'default')}, "
                  f"monthly {_cap(q['monthly_micros'], 'default')}")
        return 0
    if not args.user and not args.team:
        print("error: name a --user or a --team", file=sys.stderr)
        return 2
    team = args.team or "local"
    try:
        if args.action == "set":
            rt.budgets.set(team, args.user, daily=args.daily, monthly=args.monthly,
                           by=default_user(), via=PLATFORM)
            print(f"Budget set for {team}/{args.user}" if args.user else f"Budget set for team {team}")
        elif rt.budgets.clear(team, args.user, by=default_user(), via=PLATFORM):
            print("Budget cleared; defaults apply again.")
        else:
            print("No budget was set there; defaults apply.")
    except SoraError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    return 0


def admin_link(rt: Runtime, args: argparse.Namespace) -> int:
    """The link goes on the last line, alone, so scripts can take it with `tail -1`."""
    url = rt.chat.admin_link(args.team, by=default_user(), ttl=args.ttl)
    ttl = rt.settings.admin_link_ttl if args.ttl is None else args.ttl
    print(f"Sign-in link for team {args.team}; it works once, for {ttl:g} seconds:")
    print(url)
    return 0


def _cap(micros: int | None, none: str = "no limit") -> str:
    return none if micros is None else usd(micros)


def jobs(rt: Runtime, args: argparse.Namespace) -> int:
    listed = rt.engine.jobs(limit=args.limit)
    if args.json:
        print(json.dumps([{
            "id": j.id, "status": j.status, "user": j.requester.user, "team": j.requester.team,
            "platform": j.requester.platform, "prompt": j.request.prompt, "model": j.request.model,
            "duration": j.request.duration, "resolution": j.request.resolution,
            "cost_usd": j.cost_micros / 1e6, "task_id": j.task_id, "error": j.error,
            "video_path": j.video_path, "created_at": j.created_at.isoformat(),
        } for j in listed], indent=2))
        return 0
    if not listed:
        print("No jobs yet.")
    for j in listed:
        line = (f"{j.id}  {j.status:<10} {usd(j.cost_micros):>7}  {j.requester.team}/{j.requester.user}"
                f"  {j.request.model} {j.request.duration}s  {j.request.prompt[:50]}")
        print(line + (f"  ({j.error})" if j.error else ""))
    return 0


def run_sync(coro: Any) -> int:
    try:
        return asyncio.run(coro)
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM in `run`
        print("Stopped. Unfinished jobs resume at the next `sora-bot run` or `sora-bot resume`.",
              file=sys.stderr)
        return 130
