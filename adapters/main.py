"""The `sora-bot` entry point: the composition root that may see every layer."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from adapters import stand_in
from adapters.terminal import cli
from bot import logs
from bot.errors import ConfigError
from bot.settings import Settings

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    # .env in the working directory (not beside the installed code); the environment wins.
    load_dotenv(Path.cwd() / ".env")
    try:  # first: the help lists the catalogue's models, and a bad setting stops every command
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    parser, sub = cli.build_parser(settings.catalogue)
    sub.add_parser("run", help="start the Discord and/or Slack bots, or the console without tokens")
    args = parser.parse_args(argv)
    one_shot = args.command not in ("run", "fake-api")
    logs.configure(settings, "WARNING" if one_shot and settings.log_level == "INFO" else None)
    try:
        return cli.run_sync(run(settings) if args.command == "run" else cli.dispatch(args, settings))
    except ConfigError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2


async def run(settings: Settings) -> int:
    """Start the adapters whose tokens are set; with none, the console adapter."""
    chat = [name for name, token in (("Discord", settings.discord_token),
                                     ("Slack", settings.slack_bot_token)) if token]
    if chat and settings.uses_stand_in:
        raise ConfigError(f"APIMASTER_API_KEY is not set: the {' and '.join(chat)} bot needs a real "
                          "APIMaster key. Add it to .env (see .env.example).")
    _stop_on_sigterm()
    if not chat:
        from adapters.terminal import console

        async with stand_in.open_runtime(settings) as rt:
            return await console.serve(rt)
    async with stand_in.open_runtime(settings) as rt:
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


def _stop_on_sigterm() -> None:
    """A platform's stop (Procfile, Docker) sends SIGTERM: wind down as for Ctrl-C, so
    connections close cleanly; unfinished jobs resume at the next start either way."""
    main_task = asyncio.current_task()
    if main_task is not None:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)


if __name__ == "__main__":
    sys.exit(main())
