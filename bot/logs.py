"""Logging, configured once by the entry point, with secrets scrubbed from every record."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from bot.settings import Settings


class Scrubber:
    """Replaces every secret in a text with ***. Upstream text is data: an error message
    may quote the key it was sent, and must reach no person, log or database as it came."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class RedactSecrets(logging.Filter):
    """Last line of defence: no secret reaches a log line, whatever code logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.scrub = Scrubber(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.scrub.secrets:
            return True
        message = record.getMessage()
        text = self.scrub(message)
        if text != message:
            record.msg, record.args = text, None
        if record.exc_info and not record.exc_text:
            # The formatter uses a cached exc_text when there is one: cache it scrubbed.
            record.exc_text = self.scrub(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()


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
    handler.addFilter(RedactSecrets(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or settings.log_level)
    # discord.py and aiohttp are chatty at INFO.
    logging.getLogger("discord").setLevel(max(root.level, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
