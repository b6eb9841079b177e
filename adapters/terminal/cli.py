"""The `sora-bot` commands that need no chat platform: generate, models, usage, quota, jobs,
resume, fake-api, admin-link, dashboard. `adapters.main` adds `run` and is the console
script's entry point."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import math
import shutil
import sys
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from adapters import stand_in
from adapters.terminal import creative
from adapters.terminal.text import safe
from bot import catalogue as catalogue_
from bot import library
from bot.budgets import KEEP
from bot.catalogue import Catalogue, ModelSpec, aspect_name, or_list
from bot.errors import InvalidRequest, SoraError
from bot.grammar import fill
from bot.models import Job, Progress, Requester, VideoRequest, usd
from bot.runtime import Runtime
from bot.settings import Settings
from bot.validation import cost_micros, validate

PLATFORM = "cli"


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in every --help, except where there is none to show or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, KEEP, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def add_command(sub: Any, name: str, description: str) -> argparse.ArgumentParser:
    """A subcommand whose --help shows its description and its options' defaults."""
    return sub.add_parser(name, help=description, description=description[:1].upper() + description[1:] + ".",
                          formatter_class=_HelpFormatter)


def add_request_options(parser: argparse.ArgumentParser,
                        catalogue: Catalogue = catalogue_.BUILTIN) -> None:
    """The options of a video request, shared by `generate` and the console adapter; the
    choices come from the catalogue (`sora-bot models` shows what each model offers)."""
    parser.add_argument("prompt", nargs="+", help="what the video shows")
    parser.add_argument("--model", default="sora-2",
                        help=f"{or_list(catalogue.models())}; `sora-bot models` says what each offers")
    parser.add_argument("--duration", default=None,
                        help=f"seconds, as the model offers: {_per_model(catalogue, 'durations')} "
                             "(default: 4, or the model's shortest)")
    parser.add_argument("--resolution", default=None,
                        help=f"{_per_model(catalogue, 'resolutions')} (default: 720p or the model's first)")
    parser.add_argument("--aspect", default=None,
                        help=f"{or_list(f'{a} / {aspect_name(a)}' if aspect_name(a) else a for a in catalogue.aspects())}"
                             " (default 16:9 where the model offers it)")
    parser.add_argument("--image", default=None, help="public http(s) URL of a start image")


def _per_model(catalogue: Catalogue, what: str) -> str:
    """ "sora-2: 720p; sora-2-pro: 720p, 1024p or 1080p" """
    return "; ".join(f"{name}: {or_list(map(str, getattr(spec, what)))}"
                     for name, spec in catalogue.specs.items()).replace("%", "%%")


def request_from(args: argparse.Namespace,
                 catalogue: Catalogue = catalogue_.BUILTIN) -> VideoRequest:
    """Options not given take the chosen model's defaults (an unknown model fails later,
    in validation, with the list of models)."""
    return fill(catalogue, " ".join(args.prompt), args.model, args.duration, args.resolution,
                args.aspect, args.image)


def version() -> str:
    try:
        return metadata.version("sora-bot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser(catalogue: Catalogue = catalogue_.BUILTIN) -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(
        prog="sora-bot", formatter_class=_HelpFormatter,
        description="Make short videos from Discord, Slack or this terminal, within budgets.",
        epilog="Settings come from the environment and from .env in the current folder "
               "(see .env.example). `sora-bot COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = add_command(sub, "generate", "make one video from the terminal; progress on stderr, "
                      "the MP4's path last on stdout")
    add_request_options(gen, catalogue)
    gen.add_argument("--user", default=None, help="who pays (default: your login name)")
    gen.add_argument("--team", default="local", help="team to charge")
    gen.add_argument("--out", default=None, help="where to write the MP4 (default: in SORA_MEDIA_DIR)")
    gen.add_argument("--continue", dest="continue_from", metavar="JOB", default=None,
                     help="start from the last frame of JOB's video (needs PUBLIC_BASE_URL: "
                          "this process serves the frame on PORT while the job runs)")
    gen.add_argument("--yes", action="store_true",
                     help="confirm a video above SORA_CONFIRM_ABOVE_USD without asking")

    stitch = add_command(sub, "stitch", "join the videos of two or more jobs into one MP4, "
                         "in the order given (costs nothing)")
    stitch.add_argument("jobs", nargs="+", metavar="JOB", help="job ids, in order")
    stitch.add_argument("--out", required=True, help="where to write the MP4")

    add_command(sub, "prune", "delete video files older than SORA_KEEP_VIDEOS_DAYS "
                "(jobs and the ledger stay)")

    models = add_command(sub, "models", "the video models: durations, resolutions, prices")
    models.add_argument("--json", action="store_true", help="print a JSON list")

    usage = add_command(sub, "usage", "spend and budgets per user and team")
    usage.add_argument("--user", help="only this user")
    usage.add_argument("--team", help="only this team")
    usage.add_argument("--json", action="store_true", help="print a JSON list")

    quota = add_command(sub, "quota", "set, clear or show budgets")
    qsub = quota.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action in ("set", "clear"):
        q = add_command(qsub, action, f"{action} a budget for a user or a whole team")
        q.add_argument("--user", help="a member (within --team, default local)")
        q.add_argument("--team", help="the team (alone: the whole team's budget)")
        if action == "set":
            q.add_argument("--daily", type=_dollars, default=KEEP,
                           help="dollars per UTC day (default: unchanged)")
            q.add_argument("--monthly", type=_dollars, default=KEEP,
                           help="dollars per calendar month (default: unchanged)")
    add_command(qsub, "show", "list the default budgets and every override")

    jobs = add_command(sub, "jobs", "recent jobs, newest first; `jobs release JOB` or "
                       "`jobs charge JOB` settles a job whose outcome is unknown")
    jobs.add_argument("action", nargs="?", choices=("release", "charge"),
                      help="release: the service did not make it (the held cost is freed); "
                           "charge: it did (the held cost is spent)")
    jobs.add_argument("job", nargs="?", help="the job id, with release or charge")
    jobs.add_argument("--json", action="store_true", help="print a JSON list")
    jobs.add_argument("--limit", type=_positive_count, default=20, help="how many jobs to list")

    add_command(sub, "resume", "finish every unfinished terminal job, then exit")

    link = add_command(sub, "admin-link", "print a one-time sign-in link to the dashboard")
    link.add_argument("--team", default="local", help="the team it shows")
    link.add_argument("--ttl", type=_link_ttl, default=None,
                      help="seconds the link works (default: ADMIN_LINK_TTL, 600)")

    web = add_command(sub, "dashboard", "run the admin dashboard alone")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=_port, default=None, help="port (default: PORT, 3000)")

    fake = add_command(sub, "fake-api", "run the local APIMaster stand-in (test clips, no money)")
    fake.add_argument("--port", type=_port, default=8123, help="port on 127.0.0.1")
    fake.add_argument("--job-seconds", type=_seconds, default=2.0, help="how long each job takes")
    return parser, sub


def _positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, not {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, zero or more, not {text!r}")
    return value


def _link_ttl(text: str) -> float:
    value = _seconds(text)
    if not 1 <= value <= 7 * 86400:
        raise argparse.ArgumentTypeError("a link lives between 1 second and 7 days")
    return value


def _dollars(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in dollars, e.g. 5 or 2.50") from None
    if not math.isfinite(value):  # float() reads "inf" and "nan"
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite amount; "
                                         "`quota clear` removes a budget")
    if value < 0:
        raise argparse.ArgumentTypeError("a budget cannot be negative")
    return value


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run one core command; returns the exit code."""
    if args.command == "fake-api":
        await stand_in.serve_forever(args.port, stand_in.StandInState(
            job_seconds=args.job_seconds, catalogue=settings.catalogue))
        return 0
    if args.command == "models":
        return models(settings.catalogue, args.json)
    if args.command == "generate":
        if args.continue_from and args.image:
            print("error: use --image or --continue, not both", file=sys.stderr)
            return 2
        try:  # bad input fails alone, before anything starts or prints
            request = request_from(args, settings.catalogue)
            if args.continue_from:  # the frame's URL comes later; the model must take an image
                request = replace(request, image_url="https://frame.invalid/last.png")
            cost = cost_micros(validate(request, settings), settings)
        except InvalidRequest as exc:
            print(f"error: {exc.user_message}", file=sys.stderr)
            return 2
        if not creative.confirmed(cost, settings, args.yes):
            return 2
        if settings.uses_stand_in:
            print(stand_in.NOTICE, file=sys.stderr)
        async with stand_in.open_runtime(settings) as rt:
            return await generate(rt, args)
    if args.command in ("jobs", "usage") and not settings.db_url and not settings.db_path.exists():
        # Opening would create an empty ledger wherever this runs: say where we looked.
        print(f"No ledger at {settings.db_path}: nothing is recorded there. Run from the folder "
              "that holds data/, or set SORA_DB.", file=sys.stderr)
        if args.json:
            print("[]")
        return 0
    if args.command == "dashboard":
        from adapters import dashboard  # the web server, only for the command that runs it

        async with stand_in.open_runtime(settings) as rt:
            await dashboard.serve(rt, args.host, args.port)
        return 0
    if args.command in ("stitch", "prune") and not settings.db_url and not settings.db_path.exists():
        print(f"No ledger at {settings.db_path}: no videos are recorded there.", file=sys.stderr)
        return 2
    async with stand_in.open_runtime(settings, calls_api=args.command == "resume") as rt:
        if args.command == "admin-link":
            return admin_link(rt, args)
        if args.command == "usage":
            return await usage(rt, args)
        if args.command == "quota":
            return await quota(rt, args)
        if args.command == "jobs":
            return await jobs(rt, args)
        if args.command == "resume":
            return await resume(rt)
        if args.command == "stitch":
            return await creative.stitch(rt, args.jobs, args.out)
        if args.command == "prune":
            return await creative.prune(rt)
    raise AssertionError(args.command)


# -- generate / resume ---------------------------------------------------------------------

class TerminalEvents:
    """Progress on stderr; the finished MP4 moved to the job's `--out` path."""

    def __init__(self, out: str | None = None) -> None:
        self.out = out

    async def accepted(self, job: Job) -> None:
        print(f"{job.id}: accepted, {usd(job.cost_micros)} reserved", file=sys.stderr)

    async def progress(self, job: Job, progress: Progress) -> None:
        print(f"{job.id}: {safe(progress.describe())}", file=sys.stderr)

    async def completed(self, job: Job, video: Path) -> None:
        if job.moved_from:
            print(f"{job.id}: made by {job.request.model} ({job.moved_from} is not available "
                  f"upstream), {usd(job.cost_micros)}", file=sys.stderr)
        if self.out:
            target = Path(self.out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(video, target)
            video = target
            job.video_path = str(target)  # the library finds it there (stitch, --continue)
        print(video)

    async def failed(self, job: Job, error: SoraError) -> None:
        print(f"error: {safe(error.user_message)}", file=sys.stderr)


def _terminal_factory(job: Job) -> TerminalEvents:
    return TerminalEvents(job.origin.get("out"))


async def generate(rt: Runtime, args: argparse.Namespace) -> int:
    rt.engine.register(PLATFORM, _terminal_factory)
    requester = Requester(PLATFORM, args.team, args.user or default_user())
    out = str(Path(args.out).resolve()) if args.out else None
    request = request_from(args, rt.settings.catalogue)
    try:
        if not args.continue_from:
            return await _run_job(rt, request, requester, out)
        async with creative.serving_frame(rt, args.continue_from) as (parent, url):
            print(f"Continuing from the last frame of {parent.id}", file=sys.stderr)
            return await _run_job(rt, replace(request, image_url=url), requester, out,
                                  parent=parent.id, sequence=library.sequence_of(parent))
    except SoraError as exc:
        print(f"error: {safe(exc.user_message)}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidRequest) else 1


async def _run_job(rt: Runtime, request: VideoRequest, requester: Requester, out: str | None,
                   parent: str | None = None, sequence: str | None = None) -> int:
    accepted = await rt.engine.submit(request, requester, TerminalEvents(out), origin={"out": out},
                                      parent=parent, sequence=sequence)
    job = await rt.engine.wait(accepted.job.id)
    return 0 if job.status == "delivered" and not job.error else 1


async def resume(rt: Runtime) -> int:
    """Finish the terminal's unfinished jobs that no live process holds."""
    mine = [PLATFORM, "console"]
    for platform in mine:
        rt.engine.register(platform, _terminal_factory)
    resumed = await rt.engine.resume(mine)
    elsewhere = await rt.engine.running_elsewhere(mine)
    chat = await rt.engine.running_elsewhere(["discord", "slack"])
    if not resumed and not elsewhere:
        print("No unfinished terminal jobs.", file=sys.stderr)
    if elsewhere:
        print(f"{elsewhere} job(s) are being worked on by another process and were left alone. "
              f"If that process died, its claim runs out within {rt.settings.lease_seconds:g} s; "
              "run `sora-bot resume` again then.", file=sys.stderr)
    finished = [await rt.engine.wait(job.id) for job in resumed]
    if chat:
        print(f"{chat} Discord/Slack job(s) will resume when `sora-bot run` starts.",
              file=sys.stderr)
    return 0 if all(j.status == "delivered" for j in finished) else 1


# -- reports -------------------------------------------------------------------------------

async def usage(rt: Runtime, args: argparse.Namespace) -> int:
    rows = []
    for t in await rt.store.totals(team=args.team, user=args.user):
        status = await rt.budgets.status(t["team"], t["user"])
        rows.append({
            "user": t["user"], "team": t["team"],
            "spent_usd": t["spent_micros"] / 1e6, "reserved_usd": t["reserved_micros"] / 1e6,
            "jobs": t["jobs"], "jobs_charged": t["jobs_spent"],
            "today_usd": status.usage.user_day / 1e6, "month_usd": status.usage.user_month / 1e6,
            "left_today_usd": None if status.left_today is None else status.left_today / 1e6,
            "held_usd": (await rt.store.held(t["team"], t["user"]))[0] / 1e6,
            "last_job_at": t["last_job_at"],
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No spending recorded yet.")
    for r in rows:
        left = "no limit" if r["left_today_usd"] is None else f"${r['left_today_usd']:.2f}"
        held = f" (${r['held_usd']:.2f} held: outcome unknown)" if r["held_usd"] else ""
        print(f"{safe(r['team'])}/{safe(r['user'])}: spent ${r['spent_usd']:.2f}, "
              f"reserved ${r['reserved_usd']:.2f}{held}, {r['jobs']} job(s); "
              f"today ${r['today_usd']:.2f}, left today {left}")
    return 0


async def quota(rt: Runtime, args: argparse.Namespace) -> int:
    if args.action == "show":
        d = rt.budgets.defaults
        print("Defaults: user daily {}, user monthly {}, team daily {}, team monthly {}".format(
            *(_cap(v) for v in (d.user_daily, d.user_monthly, d.team_daily, d.team_monthly))))
        for q in await rt.budgets.quotas():
            who = f"{safe(q['team'])}/{safe(q['user'])}" if q["user"] else f"{safe(q['team'])} (whole team)"
            print(f"{who}: daily {_cap(q['daily_micros'], 'default')}, "
                  f"monthly {_cap(q['monthly_micros'], 'default')}")
        return 0
    if not args.user and not args.team:
        print("error: name a --user or a --team", file=sys.stderr)
        return 2
    team = args.team or "local"
    try:
        if args.action == "set":
            await rt.budgets.set(team, args.user, daily=args.daily, monthly=args.monthly,
                                 by=default_user(), via=PLATFORM)
            print(f"Budget set for {safe(team)}/{safe(args.user)}" if args.user
                  else f"Budget set for team {safe(team)}")
        elif await rt.budgets.clear(team, args.user, by=default_user(), via=PLATFORM):
            print("Budget cleared; defaults apply again.")
        else:
            print("No budget was set there; defaults apply.")
    except SoraError as exc:
        print(f"error: {safe(exc.user_message)}", file=sys.stderr)
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


def models(catalogue: Catalogue, as_json: bool = False) -> int:
    """Every model: provider, durations, resolutions with $/s, aspects, image input, fallback."""
    if as_json:
        print(json.dumps([{
            "model": name, "provider": spec.provider, "upstream": spec.model_id,
            "durations": list(spec.durations), "prices": dict(spec.prices),
            "aspects": list(spec.aspects), "images": spec.images, "fallback": spec.fallback,
            "remix": spec.remix, "extend": spec.extend,
            "smaller_rendition": spec.smaller_rendition,
            "aliases": [a for a, m in catalogue.aliases.items() if m == name],
        } for name, spec in catalogue.specs.items()], indent=2))
        return 0
    if catalogue.source:
        print(f"Models from the built-in catalogue and {catalogue.source}:")
    for name, spec in catalogue.specs.items():
        print(_model_lines(name, spec, catalogue))
    return 0


def _model_lines(name: str, spec: ModelSpec, catalogue: Catalogue) -> str:
    provider = catalogue.providers[spec.provider]
    aliases = [a for a, m in catalogue.aliases.items() if m == name]
    upstream = f", sent as {spec.model_id}" if spec.model_id != name else ""
    return "\n".join([
        f"{name}" + (f" (alias {', '.join(aliases)})" if aliases else ""),
        f"  provider:    {spec.provider} ({provider.dialect} dialect{upstream})",
        f"  durations:   {spec.durations_text()} seconds",
        f"  resolutions: {spec.rates_text()}",
        f"  aspects:     {', '.join(spec.aspects)}",
        f"  image input: {f'yes, up to {spec.images}' if spec.images else 'no (text to video only)'}",
        f"  fallback:    {spec.fallback or 'none'}",
        *([f"  provider's own: {' and '.join(n for n, on in (('remix', spec.remix), ('extend', spec.extend)) if on)}"]
          if spec.remix or spec.extend else []),
        *([f"  smaller rendition: {{base}}/v1/videos/{{id}}/content?{spec.smaller_rendition}"]
          if spec.smaller_rendition else []),
    ])


async def jobs(rt: Runtime, args: argparse.Namespace) -> int:
    if args.action:
        if not args.job:
            print(f"error: name the job: sora-bot jobs {args.action} JOB", file=sys.stderr)
            return 2
        try:
            job = await rt.engine.settle_unknown(args.job, charge=args.action == "charge")
        except SoraError as exc:
            print(f"error: {exc.user_message}", file=sys.stderr)
            return 2
        print(f"{job.id}: {job.error}")
        return 0
    listed = await rt.engine.jobs(limit=args.limit)
    if args.json:
        print(json.dumps([{
            "id": j.id, "status": j.status, "user": j.requester.user, "team": j.requester.team,
            "platform": j.requester.platform, "prompt": j.request.prompt, "model": j.request.model,
            "requested_model": j.requested_model,
            "duration": j.request.duration, "resolution": j.request.resolution,
            "cost_usd": j.cost_micros / 1e6, "task_id": j.task_id, "error": j.error,
            "video_path": j.video_path, "created_at": j.created_at.isoformat(),
        } for j in listed], indent=2))
        return 0
    if not listed:
        print("No jobs yet.")
    for j in listed:
        print(job_line(j))
    return 0


def job_line(j: Job) -> str:
    """One job as one line; everything stored is shown escaped."""
    line = (f"{j.id}  {j.status:<10} {usd(j.cost_micros):>7}  {safe(j.requester.team)}/"
            f"{safe(j.requester.user)}  {j.request.model} {j.request.duration}s  "
            f"{safe(j.request.prompt[:50])}")
    return line + (f"  ({safe(j.error)})" if j.error else "")


def run_sync(coro: Any) -> int:
    try:
        return asyncio.run(coro)
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM in `run`
        print("Stopped. Unfinished jobs resume at the next `sora-bot run` or `sora-bot resume`.",
              file=sys.stderr)
        return 130
