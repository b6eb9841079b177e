"""The job engine: validate -> reserve -> submit -> persist -> poll -> download -> deliver -> settle.

Each step is recorded before the next starts, so a restarted process resumes every job where
it stood: a job with a task id is polled, never resubmitted, and delivered once.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.budgets import Budgets
from bot.errors import (
    DeliveryFailed, GenerationFailed, InvalidRequest, JobTimeout, ModelUnavailable,
    OutcomeUnknown, QuotaExceeded, SoraError, Unfetched,
)
from bot.events import JobEvents
from bot.leases import Leases
from bot.logs import Scrubber
from bot.fetching import clamp
from bot.models import Job, JobStatus, Progress, Requester, Stage, VideoRequest, usd
from bot.reporting import Reporter
from bot.providers import ProviderClients
from bot.settings import Settings
from bot.slots import Slots
from bot.status import DELIVERIES, REF
from bot.validation import cost_micros, validate
from storage.store import Store

log = logging.getLogger(__name__)

EventsFactory = Callable[[Job], JobEvents]


@dataclass(frozen=True)
class Accepted:
    job: Job
    #: What the requester may still spend today after this job (micro-dollars); None: no cap.
    left_today: int | None


#: The statuses a job starts from that lead it into a slot (bot/slots.py) before its submit.
NEEDS_SLOT = frozenset({"reserved", "waiting", "submitted"})


class JobEngine:
    def __init__(self, settings: Settings, store: Store, clients: ProviderClients,
                 budgets: Budgets) -> None:
        self.settings = settings
        self.store = store
        self.clients = clients
        self.budgets = budgets
        self.slots = Slots(settings.max_concurrent_jobs, settings.max_jobs_per_user)
        self.leases = Leases(store, settings.lease_seconds)
        self.scrub = Scrubber(settings.secrets())
        self._factories: dict[str, EventsFactory] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    # -- what adapters call ----------------------------------------------------------------

    def register(self, platform: str, factory: EventsFactory) -> None:
        """How to rebuild a platform's events object from a stored job, for resume()."""
        self._factories[platform] = factory

    def quote(self, request: VideoRequest) -> tuple[VideoRequest, int]:
        """The validated request and its cost in micro-dollars; raises InvalidRequest."""
        valid = validate(request, self.settings)
        return valid, cost_micros(valid, self.settings)

    async def submit(self, request: VideoRequest, requester: Requester, events: JobEvents,
                     origin: dict[str, Any] | None = None, source: str | None = None,
                     request_key: str | None = None, parent: str | None = None,
                     sequence: str | None = None) -> Accepted:
        """Validate and reserve at once, then run the job in the background. Raises, with
        nothing stored: InvalidRequest, QuotaExceeded, AlreadyStarted (the member has a live
        job for `source`), DuplicateRequest (`request_key`, e.g. a Slack trigger_id, started
        a job already)."""
        valid, cost = self.quote(request)
        now = dt.datetime.now(dt.UTC)
        job = Job(id=f"job_{secrets.token_hex(6)}", requester=requester, request=valid,
                  cost_micros=cost, status="reserved", created_at=now, origin=dict(origin or {}),
                  source=source, requested_model=valid.model, parent=parent, sequence=sequence)
        row = {**job.to_row(), **self.leases.claim(), "request_key": request_key}
        status = await self.budgets.reserve(row, now)
        left = status.left_today
        self._start(job, events)
        return Accepted(job, None if left is None else max(0, left - cost))

    async def job(self, job_id: str) -> Job | None:
        row = await self.store.get_job(job_id)
        return Job.from_row(row) if row else None

    async def jobs(self, team: str | None = None, user: str | None = None, limit: int = 20) -> list[Job]:
        return [Job.from_row(r) for r in await self.store.recent_jobs(team, user, limit)]

    async def resume(self, platforms: Iterable[str] | None = None) -> list[Job]:
        """Continue the unfinished jobs of these platforms (all registered ones by default)
        that no live process holds: a job is taken only once its owner's lease has run out."""
        wanted = set(platforms if platforms is not None else self._factories)
        resumed = []
        for row in await self.store.unfinished_jobs():
            job = Job.from_row(row)
            if job.requester.platform not in wanted or job.id in self._tasks:
                continue
            factory = self._factories.get(job.requester.platform)
            if factory is None:
                log.warning("No adapter registered for %s; job %s waits", job.requester.platform, job.id)
                continue
            if not await self.leases.take(job.id):
                continue  # another process is working on it
            log.info("Resuming job %s (%s)", job.id, job.status)
            self._start(job, factory(job))
            resumed.append(job)
        return resumed

    async def running_elsewhere(self, platforms: Iterable[str]) -> int:
        """Unfinished jobs of these platforms that another live process holds."""
        wanted = set(platforms)
        return sum(1 for row in await self.store.unfinished_jobs()
                   if row["platform"] in wanted and row["id"] not in self._tasks)

    async def settle_unknown(self, job_id: str, charge: bool, team: str | None = None) -> Job:
        """An admin's word on a job whose cost is held: a submit whose outcome is unknown, or
        a video made but not fetched. `charge`: the service made it and billed it (spent);
        else the held cost is freed. Only such jobs, and only once."""
        job = await self.job(job_id)
        if job is None or (team is not None and job.requester.team != team):
            raise InvalidRequest(f"There is no job {job_id} here.")
        if job.status not in ("unknown", "unfetched"):
            raise InvalidRequest(f"Job {job_id} is {job.status}; only a job whose outcome is "
                                 "unknown, or a video not fetched, can be released or charged.")
        if charge:
            note = "Charged by an admin: the service made it."
        elif job.status == "unknown":
            note = "Released by an admin: the service did not make it."
        else:  # unfetched: the video exists upstream, but the team will not pay for it here
            note = "Released by an admin: the held cost is freed."
        await self.store.settle(job_id, "spent" if charge else "released",
                                status="delivered" if charge else "failed", error=note)
        return await self.job(job_id) or job

    async def wait(self, job_id: str) -> Job:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        job = await self.job(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    async def aclose(self) -> None:
        """Stop work in flight without failing it: the jobs resume at the next start, which
        may take them at once (their leases are let go)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.leases.aclose()

    # -- the pipeline ----------------------------------------------------------------------

    def _start(self, job: Job, events: JobEvents) -> None:
        # A place in line before any await, so jobs start in order; only jobs that will
        # need a slot take one (one that is downloading must not hold the line up).
        ticket = self.slots.join(_member(job)) if job.status in NEEDS_SLOT else None
        reporter = Reporter(events, self.settings.progress_min_interval, self._remember)
        task = asyncio.create_task(self._run(job, reporter, ticket), name=job.id)
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))
        task.add_done_callback(lambda _: reporter.cancel())
        self.leases.keep_alive(lambda: self._tasks.keys(), self._lost)

    async def _remember(self, job: Job, ref: str) -> None:
        """Store a status message reference an event returned, for a restarted process."""
        job.origin[REF] = ref
        await self._update(job, origin=job.origin)

    def _lost(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def _run(self, job: Job, events: Reporter, ticket: int | None) -> None:
        try:
            await self._run_in_line(job, events, ticket)
        finally:
            if ticket is not None:
                await asyncio.shield(self.slots.leave(_member(job), ticket))

    async def _run_in_line(self, job: Job, events: Reporter, ticket: int | None) -> None:
        try:
            if job.status == "reserved":
                await events.accepted(job)
                await self._update(job, status="waiting")
            if job.status == "submitting":
                # Cut off mid-submit: the task may exist upstream. Hold, never resend.
                raise OutcomeUnknown(usd(job.cost_micros))
            if job.status in ("waiting", "submitted"):
                await self._generate(job, events, ticket)
            if job.status == "unfetched":
                await self._fetch(job, events, None)
            if job.status == "downloaded":
                await self._deliver(job, events)
        except asyncio.CancelledError:
            raise
        except OutcomeUnknown as exc:
            log.warning("Job %s: the submit's outcome is unknown; %s stays held", job.id,
                        usd(job.cost_micros), exc_info=exc.__cause__ is not None)
            await self._hold(job, events, exc, "unknown")
        except Unfetched as exc:
            log.warning("Job %s: made but not fetched; %s stays held", job.id,
                        usd(job.cost_micros), exc_info=exc.__cause__)
            await self._hold(job, events, exc, "unfetched")
        except SoraError as exc:
            log.info("Job %s failed: %s", job.id, type(exc).__name__, exc_info=exc.retryable)
            await self._fail(job, events, exc)
        except Exception:
            log.exception("Job %s failed unexpectedly", job.id)
            await self._fail(job, events, SoraError())

    async def _generate(self, job: Job, events: Reporter, ticket: int | None) -> None:
        key = _member(job)
        if self.slots.must_wait(key, ticket):
            await events.progress(job, Progress("waiting", position=self.slots.waiting + 1))
        async with self.slots.hold(key, ticket):
            fresh = job.status == "waiting"
            if fresh:
                # Before the POST, and durable (it must survive a power loss): never sent twice.
                await self._update(job, durable=True, status="submitting")
                deadline = time.time() + self.settings.job_timeout
                try:
                    job.task_id = await self._submit(job, deadline)
                except SoraError as exc:
                    if exc.task_may_exist:
                        raise OutcomeUnknown(usd(job.cost_micros)) from exc
                    raise
                await self._update(job, status="submitted", task_id=job.task_id, deadline=deadline)
                await events.progress(job, Progress("queued", 0))
            deadline = job.deadline or time.time() + self.settings.job_timeout
            url = await self._poll(job, events, deadline, first=fresh)
            await self._fetch(job, events, url)

    async def _fetch(self, job: Job, events: Reporter, url: str | None) -> None:
        """Download the finished video. It was made, and paid for, upstream: when it cannot
        be fetched or saved now (deadline, size cap, not a video, a full disk), its cost stays
        held and the next resume tries again at the service's /content address."""
        await events.progress(job, Progress("downloading", 100))
        assert job.task_id is not None
        path = self.settings.media_dir / f"{job.id}.mp4"
        # By the job's deadline; a job resumed past it gets one short window of its own.
        deadline = max(job.deadline or 0.0, time.time() + self.settings.http_timeout)
        try:
            await self.clients.for_model(job.request.model).download(job.task_id, url, path, deadline)
        except (SoraError, OSError) as exc:
            reason = (exc.user_message if isinstance(exc, SoraError)
                      else "the bot's media folder could not be written")
            raise Unfetched(usd(job.cost_micros), reason) from exc
        await self._update(job, status="downloaded", video_path=str(path), progress=100)

    async def _submit(self, job: Job, deadline: float) -> str:
        """Submit to the model's provider. Only a definite "model not found" (no task made)
        moves the job to the model's fallback and submits again: never twice for one task."""
        tried: list[str] = []
        while True:
            try:
                return await self.clients.for_model(job.request.model).submit(job.request, deadline)
            except ModelUnavailable:
                tried.append(job.request.model)
                await self._move_to_fallback(job, tried)

    async def _move_to_fallback(self, job: Job, tried: list[str]) -> None:
        """Re-quote the job at its fallback's price and move the reservation in one store
        step; raise (the job then fails, releasing everything) when it cannot move."""
        gone = job.request.model
        fallback = self.settings.catalogue.model(gone).fallback
        admin = (f"An admin can set a `fallback` for {gone} in SORA_MODELS_FILE "
                 "(see `sora-bot models`), or choose another model. Nothing was charged.")
        if fallback is None or fallback in tried:
            raise ModelUnavailable(gone, f"{gone} is not available at the video service "
                                   f"(model not found). {admin}")
        try:
            moved = validate(replace(job.request, model=fallback), self.settings)
        except InvalidRequest as exc:
            raise ModelUnavailable(gone, f"{gone} is not available at the video service and its "
                                   f"fallback {fallback} cannot make this request: "
                                   f"{exc.user_message} {admin}") from None
        cost = cost_micros(moved, self.settings)
        try:
            await self.budgets.move(job.id, job.cost_micros, cost, dt.datetime.now(dt.UTC), model=moved.model)
        except QuotaExceeded as exc:
            raise QuotaExceeded(f"{gone} is not available at the video service, and its fallback "
                                f"{fallback} costs more ({usd(cost)}): {exc.user_message} "
                                "Nothing was charged.") from None
        log.warning("Model %s is gone upstream: job %s moves to %s at %s", gone, job.id,
                    moved.model, usd(cost))
        job.request, job.cost_micros = moved, cost

    async def _poll(self, job: Job, events: Reporter, deadline: float, first: bool) -> str | None:
        """Poll until the task ends. A resumed job is polled once even past its deadline: it
        may have finished while the bot was down. Transient errors do not end a job; only
        the deadline does."""
        assert job.task_id is not None
        delay = self.settings.poll_first_delay if first else 0.0
        eta = FinishEstimate()
        while True:
            if delay:
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise JobTimeout()
                await asyncio.sleep(min(delay, remaining))  # the last poll is at the deadline
            delay = self.settings.poll_interval
            try:
                client = self.clients.for_model(job.request.model)
                state = await client.status(job.task_id, max(deadline, time.time() + 1))
            except SoraError as exc:
                if not exc.retryable:
                    raise
                log.warning("Polling job %s failed for now (%s); trying again", job.id,
                            type(exc).__name__)
                continue
            if state.status == "completed":
                return state.url
            if state.status == "failed":
                raise GenerationFailed(_failure_message(state.error))
            job.progress = state.progress
            stage: Stage = "in_progress" if state.status == "in_progress" else "queued"
            await events.progress(job, Progress(stage, state.progress))
            # A hint is honoured within bounds: 1 ms would poll thousands of times.
            delay = clamp(state.poll_after, self.settings.poll_interval / 4,
                          self.settings.hint_ceiling) or delay
            # Poll again just after the predicted finish when it comes before the next
            # regular poll: the video arrives sooner, at no more requests.
            remaining = eta.remaining(state.progress, time.monotonic())
            if remaining is not None and remaining < delay:
                delay = max(remaining * 1.05 + 0.01, delay / 4)

    async def _deliver(self, job: Job, events: Reporter) -> None:
        assert job.video_path is not None
        # Counted before posting: a delivery begun before a crash looks for its post first.
        job.origin[DELIVERIES] = int(job.origin.get(DELIVERIES) or 0) + 1
        await self._update(job, origin=job.origin)
        try:
            await events.completed(job, Path(job.video_path))
            error = None
        except DeliveryFailed as exc:
            log.warning("Job %s was made but not delivered: %s", job.id, exc.user_message)
            error = exc.user_message
        except Exception:
            # The video exists and was paid for upstream; retrying delivery could post twice.
            log.exception("Delivering job %s failed", job.id)
            error = "delivery failed"
        # Delivery may have noted where the video went (a result message, a moved file).
        await self.store.settle(job.id, "spent", status="delivered", error=error, origin=job.origin,
                          video_path=job.video_path)
        job.status, job.error = "delivered", error

    async def _fail(self, job: Job, events: Reporter, error: SoraError) -> None:
        error.user_message = self.scrub(error.user_message)
        if not await self.store.settle(job.id, "released", status="failed", error=error.user_message):
            log.warning("Job %s was settled elsewhere; not failing it", job.id)
            return
        job.status, job.error = "failed", error.user_message
        await self._tell_failure(job, events, error)

    async def _hold(self, job: Job, events: Reporter, error: SoraError,
                    status: JobStatus) -> None:
        """The cost stays reserved: an admin settles it (`settle_unknown`), or, for a video
        not yet fetched, a later fetch does."""
        error.user_message = self.scrub(error.user_message)
        await self._update(job, status=status, error=error.user_message)
        await self._tell_failure(job, events, error)

    async def _tell_failure(self, job: Job, events: Reporter, error: SoraError) -> None:
        try:
            await events.failed(job, error)
        except Exception:
            log.exception("Reporting the failure of job %s failed", job.id)

    async def _update(self, job: Job, durable: bool = False, **fields: Any) -> None:
        await self.store.update_job(job.id, durable=durable, **fields)
        for name, value in fields.items():
            if hasattr(job, name):
                setattr(job, name, value)


class FinishEstimate:
    """Predicts when a task finishes from how fast its percent has been rising."""

    def __init__(self) -> None:
        self.first: tuple[float, int] | None = None

    def remaining(self, percent: int | None, now: float) -> float | None:
        if percent is None or not 0 < percent < 100:
            return None
        if self.first is None:
            self.first = (now, percent)
            return None
        since, start = self.first
        if percent <= start or now <= since:
            return None
        return (100 - percent) * (now - since) / (percent - start)


def _member(job: Job) -> str:
    """Whose line a job waits in (Slots' key)."""
    return f"{job.requester.team}/{job.requester.user}"


def _failure_message(error: str | None) -> str:
    if error and ("moderation" in error.lower() or "content filter" in error.lower()
                  or "policy" in error.lower()):
        return "The video was blocked by the content filter. Try rewording the prompt. Nothing was charged."
    detail = f": {error[:200]}" if error else ""
    return f"The video could not be generated{detail}. Nothing was charged."
