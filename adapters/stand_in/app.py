"""A local stand-in for APIMaster's Sora 2 API, on 127.0.0.1.

It serves the tests, the benchmark and newcomers with no account: it speaks both submit
forms (APIMaster's `/v1/videos/generations` and OpenAI's `/v1/videos`), moves each task
through queued -> in_progress -> completed, serves a real small MP4 (and a smaller one at
`/content?variant=small`, for catalogue models with `smaller_rendition`), and can be told to
fail in each documented way, in process (`StandInState.fail`) or over HTTP (`POST /_control`).
It serves every model of its catalogue by the catalogue's rules (400 for a duration, a
resolution or an aspect the model does not offer), and answers 404 `model_not_found` for a
model it does not know or was told is gone (`gone`), as resellers do for Sora 2 since
2026-09-24.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import os
import random
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import catalogue as catalogue_
from bot.catalogue import OPENAI_SIZES, Catalogue, ModelSpec

log = logging.getLogger(__name__)

#: Tasks older than this are forgotten when the task file is written.
REMEMBER_SECONDS = 86400.0
FAILURES = ("400", "401", "402", "429", "500", "502", "body-402", "body-429",
            "truncate", "generation", "drop",
            "400-echo",     # a 400 whose message quotes the Authorization header it got
            "400-mention",  # a 400 whose message carries Slack and Discord mentions
            # poll answers that are not what they should be
            "bad-utf8", "nan-progress", "numeric-url", "huge-answer",
            # downloads that are not what they should be
            "trickle",      # a few bytes a second, for ever
            "endless",      # a body with no end and no Content-Length
            "not-video")    # a 200 with an HTML-free, non-MP4 body
ENDPOINTS = ("submit", "poll", "download")
#: `GET /v1/videos/{id}/content?variant=...`: OpenAI's own variants name the video, an image
#: or a sprite sheet; "small" is the smaller MP4 rendition a provider may offer besides.
SMALL_VARIANT = "small"


@dataclass
class Task:
    id: str
    body: dict[str, Any]
    created: float  # epoch seconds, so a task outlives the process that made it
    seconds: float
    fail_generation: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: dict[str, Any] | None
    query: str = ""


@dataclass
class StandInState:
    """What the stand-in knows and does; tests read and change it directly."""

    api_key: str | None = None          # when set, other keys get 401
    job_seconds: float = 2.0            # how long a task takes
    job_jitter: float = 0.0             # +- fraction of job_seconds, for the benchmark
    video_bytes: int = 0                # pad the MP4 to this size (0: the sample as is)
    rendition_bytes: int = 0            # the same for the smaller rendition (variant=small)
    retry_after: float | None = 1.0     # sent with 429s
    poll_after_ms: int | None = None    # the OpenAI poll hint header
    upper_case: bool = False            # answer QUEUED / IN_PROGRESS / COMPLETED
    download_base: str | None = None    # where completed `url`s point (default: here)
    omit_url: bool = False              # completed tasks carry no `url`
    catalogue: Catalogue = catalogue_.BUILTIN   # the models served, by their rules
    gone: list[str] = field(default_factory=list)   # upstream model ids answered 404 model_not_found
    tasks: dict[str, Task] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    record: bool = True
    failures: dict[str, list[str]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})
    tasks_file: Path | None = None      # where tasks are remembered across restarts
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _video_cache: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def remembering(cls, tasks_file: Path, **options: Any) -> StandInState:
        """A state that keeps its tasks in `tasks_file`, so a job submitted before a crash
        or Ctrl-C is still known, and finishes, when `sora-bot resume` or `run` restarts."""
        state = cls(tasks_file=tasks_file, **options)
        state.tasks.update(_read_tasks(tasks_file))
        state._ids = itertools.count(len(state.tasks) + 1)
        return state

    def remember(self, task: Task) -> None:
        self.tasks[task.id] = task
        if self.tasks_file is None:
            return
        # Merge with the file: another process (a console and a `resume`) may have added some.
        known = _read_tasks(self.tasks_file)
        known.update(self.tasks)
        oldest = time.time() - REMEMBER_SECONDS
        known = {k: t for k, t in known.items() if t.created >= oldest}
        try:
            self.tasks_file.parent.mkdir(parents=True, exist_ok=True)
            part = self.tasks_file.with_name(f"{self.tasks_file.name}.{os.getpid()}.part")
            part.write_text(json.dumps([asdict(t) for t in known.values()], default=str), encoding="utf-8")
            os.replace(part, self.tasks_file)
        except OSError as exc:  # a stand-in that cannot remember still serves this run
            log.warning("The stand-in cannot write %s (%s); its tasks last only this run",
                        self.tasks_file, exc.strerror)

    def fail(self, endpoint: str, kind: str, times: int = 1) -> None:
        """Make the next `times` calls to `endpoint` fail as `kind`."""
        if endpoint not in ENDPOINTS or kind not in FAILURES:
            raise ValueError(f"endpoint one of {ENDPOINTS}, kind one of {FAILURES}")
        self.failures[endpoint].extend([kind] * times)

    def submits(self) -> list[dict[str, Any]]:
        """Bodies of every submit received, in order."""
        return [r.body or {} for r in self.requests if r.method == "POST" and r.path.endswith(
            ("/videos/generations", "/videos", "/remix", "/videos/extensions"))]

    def renditions(self) -> list[str]:
        """Task ids of every smaller rendition asked for, in order."""
        return [r.path.split("/")[-2] for r in self.requests if r.method == "GET"
                and r.path.endswith("/content") and f"variant={SMALL_VARIANT}" in r.query.split("&")]

    def video(self, small: bool = False) -> bytes:
        size = self.rendition_bytes if small else self.video_bytes
        if size not in self._video_cache:
            self._video_cache[size] = padded_sample(size)
        return self._video_cache[size]


def sample_mp4() -> bytes:
    return resources.files("adapters.stand_in").joinpath("assets/sample.mp4").read_bytes()


def padded_sample(size: int) -> bytes:
    """The sample MP4, grown to `size` bytes with a trailing `free` box players skip."""
    data = sample_mp4()
    pad = size - len(data)
    if pad < 8:
        return data
    return data + struct.pack(">I4s", pad, b"free") + bytes(pad - 8)


STATE = web.AppKey("state", StandInState)
BODY = web.RequestKey("body", object)


def make_app(state: StandInState | None = None) -> web.Application:
    app = web.Application(middlewares=[_record_and_auth])
    app[STATE] = state or StandInState()
    for prefix in ("/v1", "/v1/v1"):  # APIMaster's documented URLs carry /v1 twice; accept both
        app.router.add_post(f"{prefix}/videos/generations", _submit_apimaster)
        app.router.add_post(f"{prefix}/videos", _submit_openai)
        app.router.add_post(f"{prefix}/videos/extensions", _extend)
        app.router.add_post(f"{prefix}/videos/{{task_id}}/remix", _remix)
        app.router.add_get(f"{prefix}/videos/{{task_id}}", _poll)
        app.router.add_get(f"{prefix}/videos/{{task_id}}/content", _content)
    app.router.add_get("/download/{task_id}.mp4", _content)
    app.router.add_post("/_control", _control)
    app.router.add_get("/_tasks", _tasks)
    app.router.add_get("/_requests", _requests)
    return app


@web.middleware
async def _record_and_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    state = request.app[STATE]
    body = None
    if request.method == "POST" and request.can_read_body:
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            body = dict(await request.post())  # the openai SDK's videos.create sends a form
        else:
            with contextlib.suppress(ValueError):
                body = await request.json()
    if state.record and not request.path.startswith("/_"):  # not the test switches
        state.requests.append(Recorded(request.method, request.path,
                                       request.headers.get("Authorization"), body,
                                       request.query_string))
    if state.api_key and request.path.startswith("/v1"):
        if request.headers.get("Authorization") != f"Bearer {state.api_key}":
            return _error(401, "Invalid API key")
    request[BODY] = body
    return await handler(request)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"code": status, "message": message}, status=status, headers=headers)


def _injected(request: web.Request, endpoint: str) -> web.Response | str | None:
    state = request.app[STATE]
    queue = state.failures[endpoint]
    if not queue:
        return None
    kind = queue.pop(0)
    if kind == "429":
        headers = {"Retry-After": f"{state.retry_after:g}"} if state.retry_after is not None else {}
        return _error(429, "Rate limit exceeded", **headers)
    if kind == "400-echo":
        return _error(400, f"Invalid parameters; header was {request.headers.get('Authorization')}")
    if kind == "400-mention":
        return _error(400, "Invalid parameters <!channel> @everyone <@U0BOSS>")
    if kind in ("400", "401", "402", "500", "502"):
        return _error(int(kind), {"400": "Invalid parameters", "401": "Invalid API key",
                                  "402": "Insufficient balance"}.get(kind, "Temporary error"))
    if kind.startswith("body-"):
        code = int(kind.removeprefix("body-"))
        return web.json_response({"code": code, "message": "Insufficient balance"
                                  if code == 402 else "Rate limit exceeded"})
    return kind  # truncate / generation / drop: handled by the endpoint


async def _submit_apimaster(request: web.Request) -> web.StreamResponse:
    task = _accept(request, "apimaster")
    if isinstance(task, web.Response):
        return task
    return web.json_response({"code": 200, "data": [{"status": "submitted", "task_id": task.id}]})


async def _submit_openai(request: web.Request) -> web.StreamResponse:
    task = _accept(request, "openai")
    if isinstance(task, web.Response):
        return task
    return web.json_response(_video_object(request, task))


async def _remix(request: web.Request) -> web.StreamResponse:
    """OpenAI's remix: a finished video again with a new prompt, keeping its settings."""
    return _derived(request, request.match_info["task_id"], "remix_of")


async def _extend(request: web.Request) -> web.StreamResponse:
    """OpenAI's extension: `video_id` carried on for `seconds` more."""
    return _derived(request, str((request[BODY] or {}).get("video_id") or ""), "extend_of")


def _derived(request: web.Request, source_id: str, how: str) -> web.Response:
    injected = _injected(request, "submit")
    if isinstance(injected, web.Response):
        return injected
    state, body = request.app[STATE], request[BODY] or {}
    source = state.tasks.get(source_id)
    if source is None:
        return _error(404, f"video {source_id} not found")
    if not body.get("prompt"):
        return _error(400, "prompt is required")
    fields = {k: v for k, v in body.items() if k != "video_id"}
    task = _new_task(state, {**source.body, **fields, how: source.id}, injected == "generation")
    return web.json_response(_video_object(request, task))


def _accept(request: web.Request, dialect: str) -> Task | web.Response:
    """Create the task a submit asks for, or the error response it was told to give."""
    injected = _injected(request, "submit")
    if isinstance(injected, web.Response):
        return injected
    body = request[BODY] or {}
    if not body.get("prompt"):
        return _error(400, "prompt is required")
    refused = _check_model(request.app[STATE], body, dialect)
    if refused is not None:
        return refused
    task = _new_task(request.app[STATE], body, injected == "generation")
    if injected == "drop":  # the task exists, but its answer is lost
        _drop(request)
    return task


def _check_model(state: StandInState, body: dict[str, Any], dialect: str) -> web.Response | None:
    """The catalogue's rules for the model named in the body; None when the body is fine."""
    model = str(body.get("model") or "sora-2")
    specs = [s for s in state.catalogue.specs.values() if s.model_id == model]
    if model in state.gone or not specs:
        return web.json_response({"error": {"code": "model_not_found", "type": "invalid_request_error",
                                            "message": f"The model `{model}` does not exist."}},
                                 status=404)
    # Several catalogue entries may name one upstream model: the body may fit any of them.
    problems = [_problem(spec, body, dialect) for spec in specs]
    if all(problems):
        return _error(400, problems[0] or "")
    return None


def _problem(spec: ModelSpec, body: dict[str, Any], dialect: str) -> str | None:
    """What is wrong with the fields the body gives (a field left out takes the default)."""
    if dialect == "openai":
        seconds = str(body.get("seconds") or spec.defaults()[0])
        if not seconds.isdigit() or int(seconds) not in spec.durations:
            return f"seconds must be one of {list(map(str, spec.durations))}"
        sizes = {OPENAI_SIZES.get((r, a)) for r in spec.resolutions for a in spec.aspects}
        if "size" in body and str(body["size"]) not in sizes:
            return f"size must be one of {sorted(s for s in sizes if s)}"
        return None
    if "duration" in body and body["duration"] not in spec.durations:
        return f"duration must be one of {list(spec.durations)}"
    values = [spec.resolution_value(r) for r in spec.resolutions]
    if spec.resolution_field in body and body[spec.resolution_field] not in values:
        return f"{spec.resolution_field} must be one of {values}"
    if "aspect_ratio" in body and body["aspect_ratio"] not in spec.aspects:
        return f"aspect_ratio must be one of {list(spec.aspects)}"
    if len(body.get("image_urls") or []) > spec.images:
        return f"{spec.model_id} accepts {spec.images} image(s)"
    return None


def _new_task(state: StandInState, body: dict[str, Any], fail_generation: bool) -> Task:
    seconds = state.job_seconds * (1 + random.uniform(-state.job_jitter, state.job_jitter))
    task = Task(f"task_{next(state._ids):06d}{random.getrandbits(32):08x}", body,
                time.time(), seconds, fail_generation)
    state.remember(task)
    return task


def _read_tasks(path: Path) -> dict[str, Task]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {row["id"]: Task(**row) for row in rows}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("The stand-in's task file %s is unreadable (%s); starting afresh", path, exc)
        return {}


def _video_object(request: web.Request, task: Task) -> dict[str, Any]:
    state = request.app[STATE]
    elapsed = time.time() - task.created
    if elapsed >= task.seconds:
        status = "failed" if task.fail_generation else "completed"
        progress = 100
    elif elapsed < task.seconds * 0.2:
        status, progress = "queued", 0
    else:
        status, progress = "in_progress", int(100 * elapsed / task.seconds)
    obj: dict[str, Any] = {
        "id": task.id, "object": "video", "model": task.body.get("model", "sora-2"),
        "status": status.upper() if state.upper_case else status, "progress": progress,
        "created_at": int(time.time() - elapsed),
        "seconds": str(task.body.get("seconds") or task.body.get("duration") or 4),
        "size": task.body.get("size", "1280x720"),
    }
    if status == "failed":
        obj["error"] = {"code": "moderation_blocked",
                        "message": "The prompt was blocked by the content filter."}
    if status == "completed" and not state.omit_url:
        base = state.download_base or f"{request.scheme}://{request.host}"
        obj["url"] = f"{base}/download/{task.id}.mp4"
    return obj


async def _poll(request: web.Request) -> web.StreamResponse:
    injected = _injected(request, "poll")
    if isinstance(injected, web.Response):
        return injected
    task = request.app[STATE].tasks.get(request.match_info["task_id"])
    if task is None:
        return _error(404, "No such task")
    headers = {}
    if request.app[STATE].poll_after_ms:
        headers["openai-poll-after-ms"] = str(request.app[STATE].poll_after_ms)
    obj = _video_object(request, task)
    if injected == "bad-utf8":
        return web.Response(body=b'{"status": "in_progress", "progress": 5\xff\xfe}',
                            content_type="application/json", headers=headers)
    if injected == "nan-progress":
        return web.Response(text=json.dumps({**obj, "progress": float("nan")}),
                            content_type="application/json", headers=headers)
    if injected == "numeric-url":
        return web.json_response({**obj, "status": "in_progress", "url": 12345}, headers=headers)
    if injected == "huge-answer":
        return web.json_response({**obj, "padding": "x" * (2 << 20)}, headers=headers)
    return web.json_response(obj, headers=headers)


async def _content(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    injected = _injected(request, "download")
    if isinstance(injected, web.Response):
        return injected
    task = state.tasks.get(request.match_info["task_id"])
    if task is None or time.time() - task.created < task.seconds or task.fail_generation:
        return _error(404, "Video not ready")
    variant = request.query.get("variant", "video")
    if variant not in ("video", SMALL_VARIANT):
        return _error(400, f"variant must be 'video' or '{SMALL_VARIANT}'")
    data = state.video(small=variant == SMALL_VARIANT)
    if injected in ("trickle", "endless"):
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        await response.prepare(request)
        await response.write(data[:64])
        while True:  # until the client gives up
            if injected == "trickle":
                await asyncio.sleep(0.05)
                await response.write(b"\0")
            else:
                await response.write(bytes(1 << 20))
    if injected == "not-video":
        return web.Response(body=b"PK\x03\x04 this is a zip, not a video" * 100,
                            content_type="application/octet-stream")
    if injected == "truncate":
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        _drop(request)
        return response
    return web.Response(body=data, content_type="video/mp4")


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


async def _control(request: web.Request) -> web.Response:
    """Switches for a stand-in in another process: {"fail": [endpoint, kind, times], ...}."""
    state = request.app[STATE]
    body = await request.json()
    if "fail" in body:
        state.fail(*body.pop("fail"))
    for key, value in body.items():
        if key not in ("api_key", "job_seconds", "job_jitter", "video_bytes", "rendition_bytes",
                       "retry_after", "poll_after_ms", "upper_case", "download_base", "omit_url",
                       "record", "gone"):
            return _error(400, f"unknown setting {key}")
        setattr(state, key, value)
    downloads = sum(1 for r in state.requests if r.method == "GET"
                    and r.path.endswith(("/content", ".mp4")))
    return web.json_response({"ok": True, "tasks": len(state.tasks),
                              "requests": len(state.requests), "downloads": downloads})


async def _requests(request: web.Request) -> web.Response:
    """Read-only, for tests in another process: what was received. The Authorization header
    is given as a fingerprint (`key_fingerprint`), never as the key itself."""
    return web.json_response([{"method": r.method, "path": r.path, "query": r.query,
                               "body": r.body, "key": key_fingerprint(r.authorization)}
                              for r in request.app[STATE].requests])


def key_fingerprint(authorization: str | None) -> str | None:
    """A short hash of an Authorization header, to compare without showing it."""
    if not authorization:
        return None
    return hashlib.sha256(authorization.encode()).hexdigest()[:16]


async def _tasks(request: web.Request) -> web.Response:
    """Read-only, for the benchmark: when each task became ready, in epoch seconds."""
    return web.json_response({t.id: t.created + t.seconds
                              for t in request.app[STATE].tasks.values()})


@contextlib.asynccontextmanager
async def running(state: StandInState | None = None, port: int = 0) -> AsyncIterator[str]:
    """Run the stand-in in this event loop; yields the base URL to use as APIMASTER_BASE_URL."""
    runner = web.AppRunner(make_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{bound}/v1"
    finally:
        await runner.cleanup()


async def serve_forever(port: int, state: StandInState | None = None) -> None:
    async with running(state, port) as base_url:
        print(f"APIMaster stand-in listening; set APIMASTER_BASE_URL={base_url}", flush=True)
        await asyncio.Event().wait()
