"""Message texts: Slack mrkdwn, with user-supplied text escaped."""
from __future__ import annotations

from bot.models import Job, Progress, usd

HELP = """*Make a Sora video*
`/sora PROMPT [--model sora-2|sora-2-pro] [--duration 4|8|12|16|20] [--resolution 720p|1024p|1080p] [--aspect 16:9|9:16]`
Shorthands: `--pro`, `--portrait`, `--landscape`. Flags may stand anywhere; the rest is the prompt.
`/sora` alone opens a form.
React with :{emoji}: to a message with a PNG, JPEG or WebP image to bring it to life.
`/sora usage`: what you have spent and have left.  `/sora jobs`: your recent videos.
Admins: `/sora quota set @member --daily 5 --monthly 50`, `/sora quota set --team --daily 20`, `/sora quota clear @member`, `/sora quota show`."""


def escape(text: str) -> str:
    """Slack needs &, < and > escaped in text it should not parse as links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def describe(job: Job) -> str:
    q = job.request
    parts = [q.model, f"{q.duration} s", q.resolution]
    if q.aspect:
        parts.append(q.aspect)
    if q.image_url:
        parts.append("from an image")
    return ", ".join(parts)


def headline(job: Job) -> str:
    return (f":clapper: Video for <@{job.requester.user}>: \u201c{escape(short(job.request.prompt))}\u201d "
            f"({describe(job)}, {usd(job.cost_micros)})")


STAGE_EMOJI = {"waiting": ":hourglass_flowing_sand:", "queued": ":hourglass:",
               "in_progress": ":movie_camera:", "downloading": ":inbox_tray:"}


def stage_text(progress: Progress) -> str:
    return f"{STAGE_EMOJI[progress.stage]} {progress.describe()}"


def status(job: Job, line: str) -> str:
    return f"{headline(job)}\n{line}"


def upload_comment(job: Job) -> str:
    return (f"<@{job.requester.user}>'s video: \u201c{escape(short(job.request.prompt, 500))}\u201d\n"
            f"{describe(job)}, cost {usd(job.cost_micros)}")


def left_text(left_today: int | None) -> str:
    return "You have no budget limit today." if left_today is None else f"You have {usd(left_today)} left today."


def failure(message: str) -> str:
    charged = "" if "charged" in message else " Nothing was charged."
    return f":x: {message}{charged}"


def job_line(job: Job) -> str:
    when = f"{job.created_at:%Y-%m-%d %H:%M} UTC"
    extra = f" ({escape(short(job.error, 80))})" if job.error and job.status == "failed" else ""
    return (f"`{job.id}` {when} *{job.status}*{extra}: \u201c{escape(short(job.request.prompt, 60))}\u201d "
            f"{describe(job)}, {usd(job.cost_micros)}")
