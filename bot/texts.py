"""What every front end says about jobs and budgets, written once. A front end supplies its
`Markup` (mentions, escaping, code spans, times); the words are the same everywhere."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from bot.budgets import Limits
from bot.models import Job, Progress, usd

PROMPT_PREVIEW = 300
STATUS_ICONS = {"delivered": "✅", "failed": "❌", "downloaded": "⬇️", "submitted": "🎞️",
                "submitting": "📤", "waiting": "⏳", "reserved": "⏳"}
STAGE_ICONS = {"waiting": "⏳", "queued": "⏳", "in_progress": "🎞️", "downloading": "⬇️"}
NOTHING_CHARGED = "Nothing was charged."


class Markup(Protocol):
    """How a platform shows a member, a code span, a time, and text it must not parse."""

    def mention(self, user: str) -> str: ...
    def escape(self, text: str) -> str: ...
    def code(self, text: str) -> str: ...
    def when(self, moment: dt.datetime) -> str: ...


class PlainMarkup:
    """Plain text, for the terminal: control characters shown escaped, never obeyed."""

    def mention(self, user: str) -> str:
        return self.escape(user)

    def escape(self, text: str) -> str:
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)

    def code(self, text: str) -> str:
        return text

    def when(self, moment: dt.datetime) -> str:
        return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


PLAIN = PlainMarkup()


def short(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(job: Job, cost: bool = True) -> str:
    """Model, duration, resolution, aspect, source and cost, in one line."""
    q = job.request
    model = f"{q.model} (standing in for {job.moved_from})" if job.moved_from else q.model
    parts = [model, f"{q.duration} s", q.resolution]
    if q.aspect:
        parts.append(q.aspect)
    if q.image_url:
        parts.append("from an image")
    return " · ".join([*parts, usd(job.cost_micros)] if cost else parts)


def headline(job: Job, m: Markup) -> str:
    """The first lines of a job's status message."""
    return (f"🎬 Video for {m.mention(job.requester.user)} · {describe(job)} · {m.code(job.id)}"
            f"{lineage(job, m)}\n> {m.escape(short(job.request.prompt, PROMPT_PREVIEW))}")


def lineage(job: Job, m: Markup) -> str:
    """ " · continues job_x" / " · edited from job_x": where a job came from, if anywhere."""
    if not job.parent:
        return ""
    how = "continues" if job.sequence else "edited from"
    return f" · {how} {m.code(job.parent)}"


def result_caption(job: Job, m: Markup) -> str:
    """What the posted video says under it."""
    return (f"{m.mention(job.requester.user)} your video is ready · {describe(job)} · "
            f"{m.code(job.id)}{lineage(job, m)}\n"
            f"> {m.escape(short(job.request.prompt, 1500))}")


#: The status line while a finished video is being posted.
UPLOADING = "⬆️ Uploading the video"


def size_text(size: int) -> str:
    """ "12.3 MB" / "512 KB" """
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


# -- fitting a video under an upload limit (bot/fitting.py) ----------------------------------

def fetching_smaller_line(size: int, limit: int) -> str:
    return (f"📉 Fetching a smaller version of the video ({size_text(size)}) to fit the "
            f"{size_text(limit)} upload limit…")


def waiting_to_shrink_line(size: int) -> str:
    return f"⏳ Waiting to shrink the video ({size_text(size)}): other videos are being shrunk"


def shrinking_line(size: int, limit: int) -> str:
    return f"🗜️ Shrinking the video ({size_text(size)}) to fit the {size_text(limit)} upload limit…"


def stage_line(progress: Progress) -> str:
    return f"{STAGE_ICONS[progress.stage]} {progress.describe()}"


def failure_line(message: str) -> str:
    """A failed job's last line; says nothing was charged unless the message speaks of money."""
    charged = "" if "charged" in message or "held" in message else f" {NOTHING_CHARGED}"
    return f"❌ {message}{charged}"


def done_line(link: str | None) -> str:
    return f"✅ Done: {link}" if link else "✅ Done: the video is below."


def held_line(micros: int, jobs: int) -> str:
    return (f"Held: {usd(micros)} for {jobs} video(s) the service may have made; it counts "
            "against your budget until an admin releases or charges it.")


def left_text(left_today: int | None) -> str:
    return "no budget limit today" if left_today is None else f"{usd(left_today)} left for you today"


def started_text(job: Job, left_today: int | None, where: str) -> str:
    """The private answer to whoever started a job."""
    return (f"Started {job.id} ({describe(job, cost=False)}): estimated cost "
            f"{usd(job.cost_micros)}; {left_text(left_today)}. "
            f"Progress and the video will appear {where}.")


def job_line(job: Job, m: Markup) -> str:
    """One line of a member's job list."""
    error = f" ({m.escape(short(job.error, 80))})" if job.error and job.status == "failed" else ""
    return (f"{STATUS_ICONS.get(job.status, '•')} {m.code(job.id)} {job.status}{error} · "
            f"{describe(job)} · {m.when(job.created_at)} · {m.escape(short(job.request.prompt, 60))}")


def job_list(jobs: Iterable[Job], m: Markup, empty: str = "You have no videos yet.") -> str:
    lines = [job_line(job, m) for job in jobs]
    return "\n".join(lines) if lines else empty


def cap(micros: int | None, none: str = "no limit") -> str:
    return none if micros is None else usd(micros)


def quota_lines(defaults: Limits, rows: Iterable[dict[str, Any]], m: Markup,
                team_word: str = "team") -> list[str]:
    """Defaults and every override of a team, for admins."""
    lines = [f"Defaults: each member {cap(defaults.user_daily)}/day, {cap(defaults.user_monthly)}/month; "
             f"the {team_word} {cap(defaults.team_daily)}/day, {cap(defaults.team_monthly)}/month."]
    for row in rows:
        who = m.mention(row["user"]) if row["user"] else f"The whole {team_word}"
        lines.append(f"{who}: {cap(row['daily_micros'], 'default')}/day, "
                     f"{cap(row['monthly_micros'], 'default')}/month")
    if len(lines) == 1:
        lines.append("No overrides are set.")
    return lines
