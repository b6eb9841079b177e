"""How the core's texts look in Slack mrkdwn."""
from __future__ import annotations

import datetime as dt

from slack_sdk.errors import SlackApiError


class SlackMarkup:
    def mention(self, user: str) -> str:
        return f"<@{user}>"

    def escape(self, text: str) -> str:
        """Slack needs &, < and > escaped in text it must not parse as links or mentions
        (`<!channel>` in a prompt must not ping a channel)."""
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def code(self, text: str) -> str:
        return f"`{text}`"

    def when(self, moment: dt.datetime) -> str:
        return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


MARKUP = SlackMarkup()


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code (a short identifier, safe to log and show)."""
    return str(exc.response.get("error", "unknown_error")) if exc.response is not None else "unknown_error"
