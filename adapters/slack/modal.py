"""`/sora` with no text opens a Block Kit modal with the prompt and the options."""
from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.context import SlackContext
from adapters.slack.jobs import Where, start_job
from bot.errors import InvalidRequest, SoraError
from bot.models import Requester, VideoRequest

log = logging.getLogger(__name__)

CALLBACK_ID = "sora_video"


def _select(block_id: str, label: str, options: list[tuple[str, str]], initial: str) -> dict[str, Any]:
    opts = [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in options]
    return {
        "type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
        "element": {"type": "static_select", "action_id": "value", "options": opts,
                    "initial_option": next(o for o in opts if o["value"] == initial)},
    }


def build_view(channel_id: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"channel": channel_id}),
        "title": {"type": "plain_text", "text": "Make a Sora video"},
        "submit": {"type": "plain_text", "text": "Make it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "prompt", "label": {"type": "plain_text", "text": "Prompt"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                         "placeholder": {"type": "plain_text", "text": "A red fox running through snow"}}},
            _select("model", "Model", [("sora-2", "sora-2"), ("sora-2-pro", "sora-2-pro")], "sora-2"),
            _select("duration", "Duration", [(str(d), f"{d} s") for d in (4, 8, 12, 16, 20)], "4"),
            _select("resolution", "Resolution", [(r, r) for r in ("720p", "1024p", "1080p")], "720p"),
            _select("aspect", "Aspect", [("16:9", "16:9 landscape"), ("9:16", "9:16 portrait")], "16:9"),
        ],
    }


async def open_modal(client: AsyncWebClient, trigger_id: str, channel_id: str) -> None:
    await client.views_open(trigger_id=trigger_id, view=build_view(channel_id))


def read_view(view: dict[str, Any]) -> VideoRequest:
    values = view["state"]["values"]

    def get(block: str) -> str:
        element = values.get(block, {}).get("value", {})
        if element.get("type") == "static_select":
            return (element.get("selected_option") or {}).get("value", "")
        return element.get("value") or ""

    return VideoRequest(prompt=get("prompt"), model=get("model") or "sora-2",
                        duration=int(get("duration") or 4), resolution=get("resolution") or "720p",
                        aspect=get("aspect") or "16:9")


def _error_block(message: str, request: VideoRequest) -> str:
    """The form field an InvalidRequest message is about."""
    lowered = message.lower()
    for block in ("prompt", "duration", "aspect"):
        if block in lowered:
            return block
    if "resolution" in lowered or request.resolution.lower() in lowered:
        return "resolution"
    return "model" if "model" in lowered else "prompt"


def register(app: AsyncApp, ctx: SlackContext) -> None:
    @app.view(CALLBACK_ID)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                        client: AsyncWebClient) -> None:
        request = read_view(view)
        try:
            ctx.runtime.engine.quote(request)  # local and fast: errors go back into the form
        except InvalidRequest as exc:
            block = _error_block(exc.user_message, request)
            await ack(response_action="errors", errors={block: exc.user_message})
            return
        await ack()
        user = body["user"]
        channel = json.loads(view.get("private_metadata") or "{}").get("channel") or user["id"]
        requester = Requester("slack", (body.get("team") or {}).get("id") or user["team_id"], user["id"],
                              user.get("username") or user.get("name"))
        try:
            reply = await start_job(ctx, request, requester, Where(channel))
        except SoraError as exc:
            reply = exc.user_message
        except Exception:
            log.exception("Starting a job from the modal failed")
            reply = "Something went wrong on the bot's side. Please try again."
        await client.chat_postEphemeral(channel=channel, user=user["id"], text=reply)
