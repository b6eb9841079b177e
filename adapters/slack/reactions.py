"""Image-to-video by reaction: the configured emoji on a message with an image starts a
job from that image, charged to whoever reacted, reported in the message's thread."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.buttons import as_message
from adapters.slack.context import SlackContext
from adapters.slack.errors import reply_for
from adapters.slack.jobs import Where, start_job
from adapters.slack.markup import slack_error
from adapters.slack.media import NO_PUBLIC_URL_MESSAGE, download_slack_image
from bot.errors import AlreadyStarted
from bot.images import NO_IMAGE, is_image
from bot.models import Requester

log = logging.getLogger(__name__)

async def reaction_added(ctx: SlackContext, event: dict[str, Any], body: dict[str, Any],
                         client: AsyncWebClient) -> None:
    if event.get("reaction") != ctx.settings.reaction_emoji_slack:
        return
    item = event.get("item") or {}
    if item.get("type") != "message":
        return
    if not ctx.first_time(str(body.get("event_id") or (item.get("channel"), item.get("ts"), event.get("user")))):
        return
    team = body.get("team_id") or event.get("item_user_team") or ""
    event_id = str(body.get("event_id") or f"{item['channel']}/{item['ts']}/{event['user']}")
    await on_reaction(ctx, client, team, event["user"], item["channel"], item["ts"], event_id)


async def on_reaction(ctx: SlackContext, client: AsyncWebClient, team: str, user: str,
                      channel: str, ts: str, event_id: str) -> None:
    thread_ts = ts

    async def tell(reply: str | dict[str, Any]) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                            **as_message(reply))
        except SlackApiError as exc:
            log.warning("Ephemeral reply to a reaction failed: %s", slack_error(exc))

    try:
        message = await find_message(client, channel, ts)
        if message is None:
            await tell("I cannot read that message. Invite me to the channel and react again.")
            return
        thread_ts = message.get("thread_ts") or ts
        who = Requester("slack", team, user)
        if await ctx.chat.already_started(who, f"{channel}/{ts}"):
            raise AlreadyStarted()
        file = await image_file(client, message)
        if file is None:
            if ctx.settings.reaction_explain_no_image:
                await tell(NO_IMAGE)
            return
        if not ctx.links.enabled:
            await tell(NO_PUBLIC_URL_MESSAGE)
            return
        request = ctx.chat.image_request(message.get("text") or "")
        await ctx.chat.check(request, who)  # before fetching and hosting the image
        image = await download_slack_image(
            ctx.runtime.session, file.get("url_private_download") or file["url_private"],
            ctx.settings.slack_bot_token, api_url=ctx.settings.slack_api_url)
        request = replace(request, image_url=ctx.links.publish(image))
        who = replace(who, name=await user_name(client, user))
        await tell(await start_job(ctx, request, who, Where(channel, thread_ts, source_ts=ts),
                                   f"event:{event_id}"))
    except Exception as exc:
        await tell(reply_for(exc, f"Reaction job from {channel}/{ts}"))


async def find_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The reacted-to message: a channel message via history, a thread reply via replies."""
    try:
        resp = await client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        for msg in resp.get("messages") or []:
            if msg.get("ts") == ts:
                return msg
        resp = await client.conversations_replies(channel=channel, ts=ts, inclusive=True, limit=50)
        return next((m for m in resp.get("messages") or [] if m.get("ts") == ts), None)
    except SlackApiError as exc:
        log.info("Cannot read message %s in %s: %s", ts, channel, slack_error(exc))
        return None


async def image_file(client: AsyncWebClient, message: dict[str, Any]) -> dict[str, Any] | None:
    """The first image file of a message, completed with files.info when Slack sent a stub."""
    for file in message.get("files") or []:
        if "url_private" not in file or "mimetype" not in file:
            file = (await client.files_info(file=file["id"]))["file"]
        if is_image(file.get("mimetype"), f".{file.get('filetype', '')}") and file.get("url_private"):
            return file
    return None


async def user_name(client: AsyncWebClient, user: str) -> str | None:
    try:
        info = (await client.users_info(user=user)).get("user") or {}
    except SlackApiError:
        return None
    return info.get("name") or info.get("real_name")
