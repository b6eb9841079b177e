"""The one error policy of every Slack listener: what the member is told, what is logged."""
from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from adapters.slack.markup import slack_error
from bot.errors import SoraError

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on the bot's side. Please try again; an admin can check the logs."
UNREADABLE = "I could not read that message or its file. Invite me to the channel and try again."


def reply_for(exc: Exception, doing: str) -> str:
    """A short answer for the member. Our typed errors speak for themselves; a Slack API
    refusal is logged by its code; anything else is logged with its traceback."""
    if isinstance(exc, SoraError):
        return exc.user_message
    if isinstance(exc, SlackApiError):
        log.warning("%s failed: Slack said %s", doing, slack_error(exc))
        return UNREADABLE
    log.error("%s failed", doing, exc_info=exc)
    return GENERIC


async def on_error(error: Exception) -> None:
    """bolt's last resort, for errors no listener caught. The body is not logged: it carries
    response URLs and user content."""
    log.error("Unhandled error in a Slack listener", exc_info=error)
