"""What the status and result messages say."""
from __future__ import annotations

from bot.models import Job, Progress, usd

PROMPT_PREVIEW = 300


def describe(job: Job) -> str:
    """Model, duration, resolution and cost, in one line."""
    q = job.request
    return f"{q.model} · {q.duration} s · {q.resolution} · {usd(job.cost_micros)}"


def header(job: Job) -> str:
    prompt = job.request.prompt
    if len(prompt) > PROMPT_PREVIEW:
        prompt = prompt[:PROMPT_PREVIEW - 1] + "…"
    kind = "image-to-video" if job.request.image_url else "video"
    return (f"🎬 Sora {kind} for <@{job.requester.user}> · {describe(job)} · `{job.id}`\n"
            f"> {prompt}")


STAGE_EMOJI = {"waiting": "⏳", "queued": "⏳", "in_progress": "🎞️", "downloading": "⬇️"}


def stage_line(progress: Progress) -> str:
    return f"{STAGE_EMOJI[progress.stage]} {progress.describe()}"


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"

