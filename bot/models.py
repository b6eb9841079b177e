"""Plain data shared by the engine, the store and the adapters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

#: A model name of the catalogue (bot/catalogue.py): built-in sora-2 and sora-2-pro, plus
#: whatever SORA_MODELS_FILE adds.
Model = str
JobStatus = Literal[
    "reserved",    # budget reserved, nothing sent yet
    "waiting",     # in our queue behind the concurrency limits
    "submitting",  # the submit request may be in flight: never resend
    "submitted",   # APIMaster has a task id; poll it
    "downloaded",  # the MP4 is on disk; deliver it
    "delivered",   # the adapter has it; settled as spent
    "failed",      # ended without a video; reservation released
    "unknown",     # the submit may have made a task upstream: cost held, never resent
    "unfetched",   # made upstream but not fetched: cost held, fetched again on resume
]
#: Statuses no process works on any more (an admin settles `unknown`).
TERMINAL: frozenset[str] = frozenset({"delivered", "failed", "unknown"})
Stage = Literal["waiting", "queued", "in_progress", "downloading"]


@dataclass(frozen=True)
class VideoRequest:
    """What a user asked for. `validate()` returns a normalised copy."""

    prompt: str
    model: str = "sora-2"
    duration: int = 4
    resolution: str = "720p"
    aspect: str | None = "16:9"
    image_url: str | None = None
    #: The provider's task id of a finished video to remix with this prompt, or to extend
    #: by `duration` seconds (models with `remix` / `extend` in the catalogue).
    remix_of: str | None = None
    extend_of: str | None = None


@dataclass(frozen=True)
class Requester:
    """Who pays: a user within a team (Discord server, Slack workspace, `local` on the CLI)."""

    platform: str  # "discord" | "slack" | "cli" | "console"
    team: str
    user: str
    name: str | None = None


@dataclass
class Job:
    id: str
    requester: Requester
    request: VideoRequest
    cost_micros: int
    status: JobStatus
    created_at: dt.datetime
    task_id: str | None = None
    progress: int | None = None
    error: str | None = None
    video_path: str | None = None
    #: Adapter-owned facts needed to find the conversation again after a restart
    #: (channel id, status message id, `--out` path, ...). JSON-serialisable.
    origin: dict[str, Any] = field(default_factory=dict)
    #: Wall-clock time (epoch seconds) after which the job is abandoned; set at submit.
    deadline: float | None = None
    #: The chat message a reaction job animates: one live job per member and source.
    source: str | None = None
    #: The model the member asked for; `request.model` differs when it moved to a fallback.
    requested_model: str | None = None
    #: The job this one was made from (edited, continued); shown in the post.
    parent: str | None = None
    #: The first job of a run of continued clips (the sequence's origin); None: not continued.
    sequence: str | None = None

    @property
    def moved_from(self) -> str | None:
        """The model asked for, when the job moved to its fallback (that model was gone
        upstream); None otherwise. Front ends name both in the posted result."""
        if self.requested_model and self.requested_model != self.request.model:
            return self.requested_model
        return None

    def to_row(self) -> dict[str, Any]:
        r, q = self.requester, self.request
        return {
            "id": self.id, "platform": r.platform, "team": r.team, "user": r.user,
            "user_name": r.name, "prompt": q.prompt, "model": q.model, "duration": q.duration,
            "resolution": q.resolution, "aspect": q.aspect, "image_url": q.image_url,
            "cost_micros": self.cost_micros, "status": self.status, "task_id": self.task_id,
            "progress": self.progress, "error": self.error, "video_path": self.video_path,
            "origin": self.origin, "deadline": self.deadline, "source": self.source,
            "requested_model": self.requested_model or q.model,
            "parent": self.parent, "sequence": self.sequence,
            "remix_of": q.remix_of, "extend_of": q.extend_of,
            "created_at": iso(self.created_at), "updated_at": iso(self.created_at),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(
            id=row["id"],
            requester=Requester(row["platform"], row["team"], row["user"], row["user_name"]),
            request=VideoRequest(prompt=row["prompt"], model=row["model"], duration=row["duration"],
                                 resolution=row["resolution"], aspect=row["aspect"],
                                 image_url=row["image_url"], remix_of=row.get("remix_of"),
                                 extend_of=row.get("extend_of")),
            cost_micros=row["cost_micros"], status=row["status"],
            created_at=dt.datetime.fromisoformat(row["created_at"]), task_id=row["task_id"],
            progress=row["progress"], error=row["error"], video_path=row["video_path"],
            origin=row["origin"], deadline=row["deadline"], source=row.get("source"),
            requested_model=row.get("requested_model") or row["model"],
            parent=row.get("parent"), sequence=row.get("sequence"),
        )


@dataclass(frozen=True)
class Progress:
    stage: Stage
    percent: int | None = None
    #: Place in our own queue while `stage == "waiting"` (1 = next).
    position: int | None = None

    def describe(self) -> str:
        """Plain words for the stage; each adapter adds its own decoration."""
        if self.stage == "waiting":
            return "Waiting for a free slot" + (f" (position {self.position})" if self.position else "")
        if self.stage == "queued":
            return "Queued at the video service"
        if self.stage == "in_progress":
            return "Generating" + (f" {self.percent}%" if self.percent is not None else "")
        return "Downloading the video"


def iso(moment: dt.datetime) -> str:
    """How times are stored: ISO 8601 in UTC, to the microsecond."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def usd(micros: int) -> str:
    """Format micro-dollars as $1.23."""
    return f"${micros / 1_000_000:,.2f}"


def to_micros(dollars: float) -> int:
    return round(dollars * 1_000_000)
