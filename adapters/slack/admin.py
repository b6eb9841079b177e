"""`/sora quota set|clear|show`: budgets per member or for the whole workspace, and
`/sora admin`: a sign-in link to the workspace's dashboard; both for admins."""
from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.context import SlackContext
from adapters.slack.flags import parse_quota
from adapters.slack.markup import MARKUP, slack_error

log = logging.getLogger(__name__)

NOT_ADMIN = ("Only workspace admins and owners (or members listed in SLACK_ADMIN_USER_IDS) "
             "can change or view budgets, settle held jobs or open the dashboard. "
             "`/sora usage` shows your own.")


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


async def settle_command(ctx: SlackContext, client: AsyncWebClient, team: str, user_id: str,
                         action: str, job_id: str) -> str:
    """`/sora release JOB` / `/sora charge JOB`, for admins."""
    if not await is_admin(ctx, client, user_id):
        return NOT_ADMIN
    return await ctx.chat.settle_unknown(team, job_id, charge=action == "charge")


async def quota_command(ctx: SlackContext, client: AsyncWebClient, team: str, user_id: str,
                        args: tuple[str, ...]) -> str:
    """Run a quota subcommand and return the reply. Raises InvalidRequest for bad input."""
    if not await is_admin(ctx, client, user_id):
        log.info("Refused quota command from non-admin %s/%s", team, user_id)
        return NOT_ADMIN
    q = parse_quota(args)
    who = MARKUP.mention(q.user) if q.user else "the whole workspace"
    if q.action == "set":
        await ctx.chat.budgets.set(team, q.user, daily=q.daily, monthly=q.monthly, by=user_id,
                                   via="slack")
        return (f"Budget for {who} updated.\n"
                + await ctx.chat.budgets_text(team, MARKUP, "workspace", q.user or ""))
    if q.action == "clear":
        gone = await ctx.chat.budgets.clear(team, q.user, by=user_id, via="slack")
        return (f"Budget override for {who} removed; the defaults apply again." if gone
                else f"{who} had no budget override.")
    return await ctx.chat.budgets_text(team, MARKUP, "workspace", q.user)


async def admin_link_command(ctx: SlackContext, client: AsyncWebClient, team: str, user_id: str) -> str:
    """`/sora admin`: a one-time sign-in link, answered privately."""
    if not await is_admin(ctx, client, user_id):
        log.info("Refused a dashboard link to non-admin %s/%s", team, user_id)
        return NOT_ADMIN
    url = ctx.chat.admin_link(team, by=user_id)
    ttl = ctx.settings.admin_link_ttl
    return f"Your dashboard sign-in link (works once, for {ttl / 60:g} minutes; do not share it):\n{url}"
