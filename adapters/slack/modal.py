"""`/sora` with no text opens a Block Kit modal with the prompt and the options."""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.context import SlackContext
from adapters.slack.errors import reply_for
from adapters.slack.buttons import as_message
from adapters.slack.jobs import Lineage, Where, start_job
from bot.catalogue import DEFAULT_MODEL, Catalogue, aspect_name
from bot.errors import InvalidRequest
from bot.grammar import fill
from bot.models import Job, Requester, VideoRequest

log = logging.getLogger(__name__)

CALLBACK_ID = "sora_video"


def _select(block_id: str, label: str, options: list[tuple[str, str]], initial: str,
            fallback: str | None = None) -> dict[str, Any]:
    opts = [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in options]
    chosen = next((o for o in opts if o["value"] == initial), None)
    chosen = chosen or next((o for o in opts if o["value"] == fallback), opts[0])
    return {
        "type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
        "element": {"type": "static_select", "action_id": "value", "options": opts,
                    "initial_option": chosen},
    }


TITLES = {"new": "Make a video", "edit": "Edit and run again", "continue": "Continue the clip",
          "remix": "Remix with a new prompt", "extend": "Extend the video"}


def build_view(channel_id: str, catalogue: Catalogue, job: Job | None = None,
               mode: str = "new") -> dict[str, Any]:
    """The form, with every choice the catalogue offers (a model's own limits are checked on
    submit, and errors go back into the form). With a `job`: its prompt and settings filled
    in, to edit and run again (`mode` "edit") or to continue from its last frame ("continue")."""
    model = DEFAULT_MODEL
    duration, resolution, aspect = catalogue.model(DEFAULT_MODEL).defaults()
    prompt: dict[str, Any] = {"placeholder": {"type": "plain_text", "text": "A red fox running through snow"}}
    meta: dict[str, Any] = {"channel": channel_id}
    if job is not None:
        q = job.request
        model, duration, resolution, aspect = q.model, q.duration, q.resolution, q.aspect or aspect
        meta.update(parent=job.id, mode=mode)
        prompt = ({"placeholder": {"type": "plain_text", "text": "What happens next"}}
                  if mode in ("continue", "extend") else {"initial_value": q.prompt})
    models = [(m, _label(catalogue.model(m).summary())) for m in catalogue.models()]
    aspects = [(a, f"{a} {aspect_name(a) or ''}".strip()) for a in catalogue.aspects()]
    prompt_block = {"type": "input", "block_id": "prompt",
                    "label": {"type": "plain_text", "text": "Prompt"},
                    "element": {"type": "plain_text_input", "action_id": "value",
                                "multiline": True, **prompt}}
    if job is not None and mode in ("remix", "extend"):
        # The provider's own: remix keeps the video's settings, extend chooses how much longer.
        blocks = [prompt_block]
        if mode == "extend":
            spec = catalogue.model(job.request.model)
            blocks.append(_select("duration", "How many seconds more",
                                  [(str(d), f"{d} s") for d in spec.durations], str(spec.durations[0])))
        return {"type": "modal", "callback_id": CALLBACK_ID, "private_metadata": json.dumps(meta),
                "title": {"type": "plain_text", "text": TITLES[mode]},
                "submit": {"type": "plain_text", "text": "Make it"},
                "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}
    return {
        "type": "modal", "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": TITLES.get(mode, TITLES["new"])},
        "submit": {"type": "plain_text", "text": "Make it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            prompt_block,
            _select("model", "Model", models, model, DEFAULT_MODEL),
            _select("duration", "Duration", [(str(d), f"{d} s") for d in catalogue.durations()],
                    str(duration)),
            _select("resolution", "Resolution", [(r, r) for r in catalogue.resolutions()], resolution),
            _select("aspect", "Aspect", aspects, aspect),
        ],
    }


def _label(text: str) -> str:
    """Slack caps an option's text at 75 characters."""
    return text if len(text) <= 75 else text[:74] + "…"


async def open_modal(client: AsyncWebClient, trigger_id: str, channel_id: str,
                     catalogue: Catalogue) -> None:
    await client.views_open(trigger_id=trigger_id, view=build_view(channel_id, catalogue))


def read_view(view: dict[str, Any], catalogue: Catalogue) -> VideoRequest:
    values = view["state"]["values"]

    def get(block: str) -> str:
        element = values.get(block, {}).get("value", {})
        if element.get("type") == "static_select":
            return (element.get("selected_option") or {}).get("value", "")
        return element.get("value") or ""

    duration = get("duration")
    return fill(catalogue, get("prompt"), get("model") or None,
                int(duration) if duration.isdigit() else None,
                get("resolution") or None, get("aspect") or None)


def _error_block(message: str, request: VideoRequest) -> str:
    """The form field an InvalidRequest message is about."""
    lowered = message.lower()
    for block in ("prompt", "duration", "aspect"):
        if block in lowered:
            return block
    if "resolution" in lowered or request.resolution.lower() in lowered:
        return "resolution"
    return "model" if "model" in lowered else "prompt"


async def _derived(view: dict[str, Any], meta: dict[str, Any], ctx: SlackContext) -> VideoRequest | None:
    """A remix or an extension of the form's parent job: the provider's own, from its task."""
    original = await ctx.chat.engine.job(meta.get("parent") or "")
    if meta.get("mode") not in ("remix", "extend") or original is None:
        return None
    values = view["state"]["values"]
    prompt = (values.get("prompt", {}).get("value", {}).get("value")) or ""
    if meta["mode"] == "remix":
        return replace(original.request, prompt=prompt, image_url=None, remix_of=original.task_id)
    chosen = (values.get("duration", {}).get("value", {}).get("selected_option") or {}).get("value", "")
    return replace(original.request, prompt=prompt, image_url=None, extend_of=original.task_id,
                   duration=int(chosen) if chosen.isdigit() else original.request.duration)


async def submitted(ctx: SlackContext, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                    client: AsyncWebClient) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    request = await _derived(view, meta, ctx) or read_view(view, ctx.settings.catalogue)
    try:
        ctx.chat.engine.quote(request)  # local and fast: errors go back into the form
    except InvalidRequest as exc:
        block = _error_block(exc.user_message, request)
        await ack(response_action="errors", errors={block: exc.user_message})
        return
    await ack()
    user = body["user"]
    channel = meta.get("channel") or user["id"]
    requester = Requester("slack", (body.get("team") or {}).get("id") or user["team_id"], user["id"],
                          user.get("username") or user.get("name"))
    parent = meta.get("parent")
    lineage = Lineage(parent, parent if meta.get("mode") == "continue" else None)
    if parent and meta.get("mode") == "edit":  # an edited image-to-video keeps its image
        original = await ctx.chat.engine.job(parent)
        if original is not None and original.request.image_url:
            request = replace(request, image_url=original.request.image_url)
    reply: str | dict[str, Any]
    try:
        reply = await start_job(ctx, request, requester, Where(channel), f"view:{view['id']}", lineage)
    except Exception as exc:
        reply = reply_for(exc, "Starting a job from the form")
    await client.chat_postEphemeral(channel=channel, user=user["id"], **as_message(reply))
