"""`/sora quota set|clear|show`: budgets per member or for the whole workspace, for admins."""
from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.context import SlackContext
from adapters.slack.events import slack_error
from adapters.slack.flags import parse_quota
from bot.models import usd

log = logging.getLogger(__name__)

NOT_ADMIN = ("Only workspace admins and owners (or members listed in SLACK_ADMIN_USER_IDS) "
             "can change or view budgets. `/sora usage` shows your own.")


async def is_admin(ctx: SlackContext, client: AsyncWebClient, user_id: str) -> bool:
    """Listed in SLACK_ADMIN_USER_IDS, or a workspace admin/owner according to users.info."""
    if user_id in ctx.settings.slack_admin_user_ids:
        return True
    try:
        resp = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info for an admin check failed: %s", slack_error(exc))
        return False
    user: dict[str, Any] = resp.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def quota_command(ctx: SlackContext, client: AsyncWebClient, team: str, user_id: str,
                        args: tuple[str, ...]) -> str:
    """Run a quota subcommand and return the reply. Raises InvalidRequest for bad input."""
    if not await is_admin(ctx, client, user_id):
        log.info("Refused quota command from non-admin %s/%s", team, user_id)
        return NOT_ADMIN
    q = parse_quota(args)
    budgets = ctx.runtime.budgets
    who = f"<@{q.user}>" if q.user else "the whole workspace"
    if q.action == "set":
        budgets.set(team, q.user, daily=q.daily, monthly=q.monthly)
        log.info("Quota set by %s for %s/%s", user_id, team, q.user or "*")
        return f"Budget for {who} updated. " + _describe(budgets.quotas(team), q.user)
    if q.action == "clear":
        gone = budgets.clear(team, q.user)
        return (f"Budget override for {who} removed; the defaults apply again." if gone
                else f"{who} had no budget override.")
    if q.user:
        return _describe(budgets.quotas(team), q.user)
    rows = budgets.quotas(team)
    if not rows:
        return "No budget overrides: the defaults from the bot's settings apply."
    return "Budget overrides:\n" + "\n".join(_row(r) for r in rows)


def _describe(rows: list[dict[str, Any]], user: str | None) -> str:
    row = next((r for r in rows if r["user"] == (user or "")), None)
    if row is None:
        return f"{'<@' + user + '>' if user else 'The workspace'} has no override; the defaults apply."
    return _row(row)


def _row(row: dict[str, Any]) -> str:
    who = f"<@{row['user']}>" if row["user"] else "Workspace"

    def cap(v: int | None) -> str:
        return "no limit" if v is None else usd(v)

    return f"{who}: daily {cap(row['daily_micros'])}, monthly {cap(row['monthly_micros'])}"
