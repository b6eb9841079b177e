"""The `sora-bot` entry point: the composition root that may see every layer."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TextIO

from dotenv import dotenv_values, load_dotenv

from adapters import stand_in, startup, web
from adapters.terminal import cli
from bot import logs
from bot.errors import ConfigError
from bot.runtime import Runtime
from bot.settings import STAND_IN_OWN, Settings
from storage.backends import redacted

log = logging.getLogger(__name__)

Mode = Literal["chat", "console", "headless"]


def main(argv: Sequence[str] | None = None) -> int:
    # .env in the working directory (not beside the installed code); the environment wins.
    dotenv_path = Path.cwd() / ".env"
    from_file = {name for name in dotenv_values(dotenv_path) if name not in os.environ}
    load_dotenv(dotenv_path)
    try:  # first: the help lists the catalogue's models, and a bad setting stops every command
        settings = startup.resolved(Settings.from_env(from_file=from_file))
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    parser, sub = cli.build_parser(settings.catalogue)
    cli.add_command(sub, "run", "start the Discord and/or Slack bots; without tokens, the "
                    "console in a terminal, or only the HTTP endpoints (/healthz) with no terminal")
    args = parser.parse_args(argv)
    try:
        mode = run_mode(settings) if args.command == "run" else None
        check(settings, args, mode)
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    ignored = sorted(STAND_IN_OWN & from_file) if settings.uses_stand_in else []
    if ignored and args.command in ("run", "generate", "resume"):
        print(f"Note: no APIMASTER_API_KEY, so {', '.join(ignored)} from .env apply only with a key "
              "(the stand-in keeps its own ledger and fast polling).", file=sys.stderr)
    one_shot = args.command not in ("run", "fake-api")
    logs.configure(settings, "WARNING" if one_shot and settings.log_level == "INFO" else None,
                   file=console_log(settings) if mode == "console" else None, brief=one_shot)
    try:
        return cli.run_sync(run(settings, mode) if args.command == "run" else cli.dispatch(args, settings))
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2


def check(settings: Settings, args: argparse.Namespace, mode: Mode | None) -> None:
    """Everything that can be found wrong before a request is sent: one ConfigError."""
    command = args.command
    if command == "fake-api":
        startup.check_port_free("--port", args.port, host="127.0.0.1")
    elif command in ("generate", "resume", "run"):
        startup.check_paths(settings, media=True)
    elif command == "quota" and args.action != "show":
        startup.check_paths(settings, media=False)
    if mode is not None:
        chat_needs_key(settings)
        if binds_web_port(settings, mode) or slack_binds_port(settings):
            startup.check_port_free("PORT", settings.port)


def run_mode(settings: Settings, stdin: TextIO | None = None) -> Mode:
    """Chat with a token; else the console when someone can type (a terminal, or prompts
    piped or redirected from a file); else (/dev/null, no stdin: Docker without -it, a
    service manager) only the HTTP endpoints."""
    if settings.discord_token or settings.slack_bot_token:
        return "chat"
    stdin = sys.stdin if stdin is None else stdin
    if stdin is None:  # Python found no file descriptor 0
        return "headless"
    try:
        if stdin.isatty():
            return "console"
        kind = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):  # closed, or not a real file
        return "headless"
    return "console" if stat.S_ISFIFO(kind) or stat.S_ISREG(kind) else "headless"


def chat_needs_key(settings: Settings) -> None:
    chat = _chat_names(settings)
    if chat and settings.uses_stand_in:
        raise ConfigError(f"APIMASTER_API_KEY is not set: the {' and '.join(chat)} bot needs a real "
                          "APIMaster key. Add it to .env (see .env.example).")


def slack_binds_port(settings: Settings) -> bool:
    """The Slack adapter serves PORT itself in HTTP mode, or for public image links."""
    return bool(settings.slack_bot_token) and (not settings.slack_app_token
                                               or bool(settings.public_base_url))


def binds_web_port(settings: Settings, mode: Mode) -> bool:
    """Our own endpoints take PORT unless the console runs or Slack already holds it."""
    return mode != "console" and not slack_binds_port(settings)


def console_log(settings: Settings) -> Path:
    """The console keeps log lines off its prompt: they go beside the database."""
    return settings.db_path.parent / "console.log"


def _chat_names(settings: Settings) -> list[str]:
    return [name for name, token in (("Discord", settings.discord_token),
                                     ("Slack", settings.slack_bot_token)) if token]


async def run(settings: Settings, mode: Mode | None = None) -> int:
    """Start the adapters whose tokens are set; with none, the console adapter, or with no
    terminal only the HTTP endpoints."""
    mode = mode or run_mode(settings)
    chat_needs_key(settings)
    _say_where(settings, mode)
    if mode == "headless":
        async with stand_in.open_runtime(settings) as rt:
            return await _headless(rt)
    _stop_on_sigterm()
    if mode == "console":
        from adapters.terminal import console

        async with stand_in.open_runtime(settings) as rt:
            return await console.serve(rt)
    chat = _chat_names(settings)
    async with stand_in.open_runtime(settings) as rt, contextlib.AsyncExitStack() as stack:
        if binds_web_port(settings, mode):
            await stack.enter_async_context(web.serving(web.build_app(rt), settings.port))
        log.info("Starting %s", " and ".join(chat))
        try:
            # A TaskGroup: when one adapter cannot start, the other is stopped too.
            async with asyncio.TaskGroup() as group:
                if settings.discord_token:
                    from adapters import discord as discord_adapter

                    group.create_task(discord_adapter.serve(rt))
                if settings.slack_bot_token:
                    from adapters import slack as slack_adapter

                    group.create_task(slack_adapter.serve(rt))
        except* ConfigError as errors:
            raise errors.exceptions[0] from None
    return 0


def _say_where(settings: Settings, mode: Mode) -> None:
    """Where the money and the videos are, once, as absolute paths."""
    ledger = redacted(settings.db_url) if settings.db_url else settings.db_path
    where = f"Ledger: {ledger}  Videos: {settings.media_dir}"
    if mode == "console":
        where += f"  Log: {console_log(settings)}"
    print(where, file=sys.stdout if mode == "console" else sys.stderr, flush=True)


async def _headless(rt: Runtime) -> int:
    """No chat token and nobody to type: serve /healthz until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with web.serving(web.build_app(rt), rt.settings.port) as port:
        print(f"No DISCORD_TOKEN or SLACK_BOT_TOKEN and no terminal for the console: serving "
              f"/healthz on port {port} until stopped.", file=sys.stderr, flush=True)
        await stop.wait()
    print("Stopped.", file=sys.stderr, flush=True)
    return 0


def _stop_on_sigterm() -> None:
    """A platform's stop (Procfile, Docker) sends SIGTERM: wind down as for Ctrl-C, so
    connections close cleanly; unfinished jobs resume at the next start either way."""
    main_task = asyncio.current_task()
    if main_task is not None:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)


if __name__ == "__main__":
    sys.exit(main())
