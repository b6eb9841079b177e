"""Logging, configured once by the entry point, with secrets scrubbed from every record."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from bot.settings import Settings


class RedactSecrets(logging.Filter):
    """Last line of defence: no secret reaches a log line, whatever code logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        text = message
        for secret in self.secrets:
            text = text.replace(secret, "***")
        if text != message:
            record.msg, record.args = text, None
        return True


def configure(settings: Settings, level: str | None = None, *, file: Path | None = None,
              brief: bool = False) -> None:
    """One handler: stderr, or `file` (the console keeps log lines off its prompt). `brief`
    prints bare messages, for one-shot commands whose warnings read as progress lines."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(message)s" if brief else "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([
        settings.api_key, settings.discord_token, settings.slack_bot_token,
        settings.slack_app_token, settings.slack_signing_secret,
    ]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or settings.log_level)
    # discord.py and aiohttp are chatty at INFO.
    logging.getLogger("discord").setLevel(max(root.level, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
