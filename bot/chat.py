"""The chat-job layer: what every chat front end does around a job, once. Adapters turn a
platform's event into a `VideoRequest`, a `Requester` and a `StatusMessage`; this module runs
the pre-checks, starts the job, and words the answers."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.admin_links import AdminLinks
from bot.budgets import Budgets
from bot.engine import JobEngine
from bot.errors import SoraError
from bot.events import JobEvents
from bot.fitting import UploadFitter
from bot.images import image_request
from bot.models import Job, Requester, VideoRequest, to_micros
from bot.offers import Offer, Offers
from bot.settings import Settings
from bot.transcode import Transcoder

log = logging.getLogger(__name__)


class CannotPost(SoraError):
    """The bot lacks what it needs to post in the conversation; nothing was started."""


@dataclass(frozen=True)
class Started:
    job: Job
    #: What the requester may still spend today after this job (micro-dollars); None: no cap.
    left_today: int | None

    def text(self, where: str = "in this channel") -> str:
        return texts.started_text(self.job, self.left_today, where)


class ChatJobs:
    """One per process, shared by every chat front end."""

    def __init__(self, settings: Settings, engine: JobEngine, budgets: Budgets) -> None:
        self.settings = settings
        self.engine = engine
        self.budgets = budgets
        self.links = AdminLinks(settings, engine.store)
        #: Shrinking videos to a platform's upload limit, a few at a time.
        self.transcoder = Transcoder(settings.max_transcodes)
        #: Every post of a video over a platform's upload limit goes through it.
        self.fitter = UploadFitter(settings, engine.clients, self.transcoder)
        #: Expensive requests waiting for their Confirm (see `needs_confirm`).
        self.offers = Offers(settings.confirm_ttl)

    async def attach(self, platform: str, events_for: Callable[[Job], JobEvents]) -> list[Job]:
        """A front end is up: rebuild its jobs' events from their stored origin with
        `events_for`, and continue the jobs it left unfinished."""
        self.engine.register(platform, events_for)
        resumed = await self.engine.resume([platform])
        if resumed:
            log.info("Resumed %d unfinished %s job(s)", len(resumed), platform)
        if elsewhere := await self.engine.running_elsewhere([platform]):
            log.info("%d %s job(s) are held by another process and left to it", elsewhere, platform)
        return resumed

    async def check(self, request: VideoRequest, requester: Requester, missing: str = "") -> int:
        """The checks every front end runs before answering, cheapest first; returns the cost.
        `missing`: the platform permissions the bot lacks where the job would report, as
        the adapter found them. Raises CannotPost, InvalidRequest or QuotaExceeded."""
        if missing:
            raise CannotPost(f"I cannot post videos here: I need the {missing} permission(s).")
        _, cost = self.engine.quote(request)
        await self.budgets.ensure_room(requester.team, requester.user, cost, requester.platform)
        return cost

    async def start(self, request: VideoRequest, requester: Requester, events: JobEvents,
                    origin: dict[str, Any], source: str | None = None,
                    request_key: str | None = None, parent: str | None = None,
                    sequence: str | None = None) -> Started:
        """Reserve and start the job (the reservation checks the budget again, atomically).
        `source`: the message a reaction job animates; one live job per member and source.
        `request_key`: what the platform calls this one request (a Slack trigger_id or
        event_id); a retried or replayed request starts nothing. Raises InvalidRequest,
        QuotaExceeded, AlreadyStarted or DuplicateRequest with nothing stored."""
        accepted = await self.engine.submit(request, requester, events, origin, source=source,
                                            request_key=request_key, parent=parent,
                                            sequence=sequence)
        log.info("%s job %s started by %s/%s", requester.platform, accepted.job.id,
                 requester.team, requester.user)
        return Started(accepted.job, accepted.left_today)

    # -- confirming expensive jobs ---------------------------------------------------------

    @property
    def confirm_above(self) -> int | None:
        """Micro-dollars above which a job asks first; None: never."""
        above = self.settings.confirm_above_usd
        return None if above is None else to_micros(above)

    def needs_confirm(self, cost_micros: int) -> bool:
        return self.confirm_above is not None and cost_micros > self.confirm_above

    def offer(self, request: VideoRequest, requester: Requester, cost_micros: int,
              context: dict[str, Any] | None = None) -> Offer:
        """Park a checked request until its requester confirms; nothing is reserved."""
        return self.offers.make(request, requester, cost_micros, context)

    def offer_text(self, offer: Offer) -> str:
        return offer.text(self.confirm_above or 0)

    def take_offer(self, offer_id: str, requester: Requester) -> Offer:
        """The offer, used up; OfferGone when expired, answered, or someone else's."""
        return self.offers.take(offer_id, requester)

    def image_request(self, text: str, image_url: str | None = None) -> VideoRequest:
        return image_request(self.settings, text, image_url)

    async def already_started(self, requester: Requester, source: str) -> bool:
        """Whether the member has a live job for `source`: an early, friendly answer. The
        unique key in the store is what actually prevents a second job."""
        return await self.engine.store.has_live_source(requester.team, requester.user, source)

    def admin_link(self, team: str, by: str, ttl: float | None = None) -> str:
        """A one-time sign-in link to `team`'s dashboard, asked for by `by` (a member id or a
        login name): what /sora-admin, /sora admin and `sora-bot admin-link` all answer."""
        return self.links.issue(team, ttl, by=by)

    # -- answers ---------------------------------------------------------------------------

    async def usage_text(self, requester: Requester) -> str:
        lines = (await self.budgets.status(requester.team, requester.user)).lines()
        held, count = await self.engine.store.held(requester.team, requester.user)
        if count:
            lines.append(texts.held_line(held, count))
        return "\n".join(lines)

    async def jobs_text(self, requester: Requester, markup: texts.Markup, limit: int = 10) -> str:
        jobs = await self.engine.jobs(team=requester.team, user=requester.user, limit=limit)
        return texts.job_list(jobs, markup)

    async def settle_unknown(self, team: str, job_id: str, charge: bool) -> str:
        """An admin's word on a job of their team whose outcome is unknown."""
        job = await self.engine.settle_unknown(job_id.strip(), charge, team=team)
        log.info("Job %s of %s settled by an admin: %s", job.id, team, "spent" if charge else "released")
        return f"{job.id}: {job.error}"

    async def budgets_text(self, team: str, markup: texts.Markup, team_word: str = "team",
                     user: str | None = None) -> str:
        rows = [r for r in await self.budgets.quotas(team) if user is None or r["user"] == user]
        return "\n".join(texts.quota_lines(self.budgets.defaults, rows, markup, team_word))
