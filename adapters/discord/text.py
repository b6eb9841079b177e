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


def stage_line(progress: Progress) -> str:
    if progress.stage == "waiting":
        where = f" (position {progress.position})" if progress.position else ""
        return f"⏳ Waiting for a free slot{where}"
    if progress.stage == "queued":
        return "⏳ Queued at the video service"
    if progress.stage == "in_progress":
        pct = f" {progress.percent}%" if progress.percent is not None else ""
        return f"🎞️ Generating…{pct}"
    return "⬇️ Downloading the video"


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"

