"""Block Kit for the creative loop: the buttons under a finished job's status message, and
Confirm / Cancel under an offer. Plain data; the listeners are in `creative.py`."""
from __future__ import annotations

from typing import Any

from bot.models import Job

EDIT, CONTINUE, STITCH, DELETE = "sora_edit", "sora_continue", "sora_stitch", "sora_delete"
REMIX, EXTEND = "sora_remix", "sora_extend"
CONFIRM, CANCEL = "sora_confirm", "sora_cancel"
RESULT_ACTIONS = (EDIT, CONTINUE, REMIX, EXTEND, STITCH, DELETE)
#: The form's mode for each button that opens it.
FORM_MODES = {EDIT: "edit", CONTINUE: "continue", REMIX: "remix", EXTEND: "extend"}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": text, "emoji": True}}
    if style:
        button["style"] = style
    return button


def result_blocks(job: Job, text: str, can_continue: bool,
                  provider_offers: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The status message's text, then Edit, Continue, the provider's Remix / Extend, Stitch
    (on a continued clip) and 🗑."""
    buttons = [_button("🖋️ Edit", EDIT, job.id)]
    if can_continue:
        buttons.append(_button("➡️ Continue", CONTINUE, job.id))
    if "remix" in provider_offers:
        buttons.append(_button("🔀 Remix", REMIX, job.id))
    if "extend" in provider_offers:
        buttons.append(_button("⏩ Extend", EXTEND, job.id))
    if job.sequence:
        buttons.append(_button("🧵 Stitch", STITCH, job.id, "primary"))
    buttons.append(_button("🗑️", DELETE, job.id, "danger"))
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
            {"type": "actions", "block_id": f"result:{job.id}", "elements": buttons}]


def offer_message(offer_id: str, text: str) -> dict[str, Any]:
    """An ephemeral message: the offer's words, Confirm and Cancel."""
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "offer", "elements": [
            _button("Confirm", CONFIRM, offer_id, "primary"), _button("Cancel", CANCEL, offer_id)]},
    ]}


def as_message(reply: str | dict[str, Any]) -> dict[str, Any]:
    """A reply (plain text, or text with blocks) as chat.postEphemeral / respond arguments."""
    return {"text": reply} if isinstance(reply, str) else reply
