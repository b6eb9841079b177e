"""Image-to-video by reaction: the configured emoji on a message with an image starts a
job from that image, charged to whoever reacted, reported in the message's thread."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.context import SlackContext
from adapters.slack.events import slack_error
from adapters.slack.jobs import Where, start_job
from adapters.slack.media import NO_PUBLIC_URL_MESSAGE, download_slack_image
from bot.errors import SoraError
from bot.models import Requester, VideoRequest

log = logging.getLogger(__name__)

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "webp"}
ALREADY_STARTED = ("You have already animated this message: the video is in its thread or on "
                   "its way. Nothing new was started or charged.")
NO_IMAGE = "That message has no PNG, JPEG or WebP image, so there is nothing to animate."


def register(app: AsyncApp, ctx: SlackContext) -> None:
    @app.event("reaction_added")
    async def reaction_added(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("reaction") != ctx.settings.reaction_emoji_slack:
            return
        item = event.get("item") or {}
        if item.get("type") != "message":
            return
        if not ctx.first_time(str(body.get("event_id") or (item.get("channel"), item.get("ts"), event.get("user")))):
            return
        team = body.get("team_id") or event.get("item_user_team") or ""
        await on_reaction(ctx, client, team, event["user"], item["channel"], item["ts"])


async def on_reaction(ctx: SlackContext, client: AsyncWebClient, team: str, user: str,
                      channel: str, ts: str) -> None:
    thread_ts = ts

    async def tell(text: str) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text)
        except SlackApiError as exc:
            log.warning("Ephemeral reply to a reaction failed: %s", slack_error(exc))

    try:
        message = await find_message(client, channel, ts)
        if message is None:
            await tell("I cannot read that message. Invite me to the channel and react again.")
            return
        thread_ts = message.get("thread_ts") or ts
        if already_started(ctx, team, user, channel, ts):
            await tell(ALREADY_STARTED)
            return
        file = await image_file(client, message)
        if file is None:
            if ctx.settings.reaction_explain_no_image:
                await tell(NO_IMAGE)
            return
        if not ctx.links.enabled:
            await tell(NO_PUBLIC_URL_MESSAGE)
            return
        s = ctx.settings
        prompt = " ".join((message.get("text") or "").split()) or s.reaction_prompt
        request = VideoRequest(prompt=prompt[:s.max_prompt_chars], model=s.reaction_model,
                               duration=s.reaction_duration, aspect=None)
        _, cost = ctx.runtime.engine.quote(request)
        ctx.runtime.budgets.ensure_room(team, user, cost)  # before fetching and hosting the image
        image = await download_slack_image(
            ctx.runtime.session, file.get("url_private_download") or file["url_private"],
            s.slack_bot_token, api_url=s.slack_api_url)
        request = replace(request, image_url=ctx.links.publish(image))
        requester = Requester("slack", team, user, await user_name(client, user))
        await tell(await start_job(ctx, request, requester, Where(channel, thread_ts, source_ts=ts)))
    except SoraError as exc:
        await tell(exc.user_message)
    except SlackApiError as exc:
        log.warning("Reaction job from %s/%s failed: %s", channel, ts, slack_error(exc))
        await tell("I could not read that message or its file. Invite me to the channel and try again.")
    except Exception:
        log.exception("Reaction job from %s/%s failed", channel, ts)
        await tell("Something went wrong on the bot's side. Please try again; an admin can check the logs.")


def already_started(ctx: SlackContext, team: str, user: str, channel: str, ts: str) -> bool:
    """Removing and re-adding the reaction must not pay for the same video twice; a failed
    job may be tried again."""
    return any(job.origin.get("source_ts") == ts and job.origin.get("channel") == channel
               and job.status != "failed"
               for job in ctx.runtime.engine.jobs(team=team, user=user, limit=50))


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


def _is_image(file: dict[str, Any]) -> bool:
    return file.get("mimetype") in IMAGE_TYPES or str(file.get("filetype", "")).lower() in IMAGE_EXTENSIONS


async def image_file(client: AsyncWebClient, message: dict[str, Any]) -> dict[str, Any] | None:
    """The first image file of a message, completed with files.info when Slack sent a stub."""
    for file in message.get("files") or []:
        if "url_private" not in file or "mimetype" not in file:
            file = (await client.files_info(file=file["id"]))["file"]
        if _is_image(file) and file.get("url_private"):
            return file
    return None


async def user_name(client: AsyncWebClient, user: str) -> str | None:
    try:
        info = (await client.users_info(user=user)).get("user") or {}
    except SlackApiError:
        return None
    return info.get("name") or info.get("real_name")
