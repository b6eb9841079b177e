"""A fake Slack Web API and Socket Mode endpoint on 127.0.0.1 that records every call.

Speaks enough of the real wire protocol for slack_sdk's AsyncWebClient and
slack_bolt's AsyncSocketModeHandler: form, query or JSON arguments in, `{"ok": ...}` out.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import LoopbackServer

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM_ID = "T0TEAM"
BOT_USER_ID = "UBOT"

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class FakeFile:
    id: str
    name: str
    mimetype: str
    content: bytes
    #: Serve Slack's HTML sign-in page with status 200, as Slack does without files:read.
    login_page: bool = False


@dataclass
class FakeSlack(LoopbackServer):
    """Start with `await fake.start()`; `url` is the Web API base for AsyncWebClient."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, FakeFile] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posted to response_url
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    #: Method name -> Slack error code to answer with ({"ok": false, "error": ...}).
    fail: dict[str, str] = field(default_factory=dict)
    #: How many of the next raw uploads fail on the network.
    drop_uploads: int = 0
    #: How long each raw upload takes, and the most that were in flight together.
    upload_seconds: float = 0.0
    most_uploads_at_once: int = 0
    _uploading: int = 0
    _upload_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_ready = asyncio.Event()
        self._changed = asyncio.Condition()

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{file_id}/{name}", self._download)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/socket", self._socket)
        await self._serve(app)
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        await self._stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/respond/{uuid.uuid4().hex}"

    # ---- test helpers ------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def add_user(self, user_id: str, name: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": TEAM_ID, "name": name, "real_name": name.title(),
            "is_admin": admin, "is_owner": owner, "is_primary_owner": owner, "is_bot": False,
        }

    def add_file(self, name: str, mimetype: str, content: bytes, *, login_page: bool = False) -> FakeFile:
        f = FakeFile(f"F{next(self._ids):06d}", name, mimetype, content, login_page)
        self.files[f.id] = f
        return f

    def file_object(self, f: FakeFile, *, partial: bool = False) -> dict[str, Any]:
        """The file as Slack shows it inside a message (partial: only the id, as Slack
        sometimes does with `file_access: check_file_info`)."""
        if partial:
            return {"id": f.id, "file_access": "check_file_info"}
        url = f"{self.base}/files-pri/{f.id}/{f.name}"
        return {
            "id": f.id, "name": f.name, "mimetype": f.mimetype, "filetype": f.name.rsplit(".", 1)[-1],
            "size": len(f.content), "url_private": url, "url_private_download": url + "?dl=1",
        }

    def add_message(self, channel: str, user: str, text: str, files: list[dict[str, Any]] | None = None,
                    thread_ts: str | None = None) -> str:
        ts = self._next_ts()
        msg: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
        if files:
            msg["files"] = files
        if thread_ts:
            msg["thread_ts"] = thread_ts
        self.messages.setdefault(channel, []).append(msg)
        return ts

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until `predicate()` (or the coroutine it returns: the store is async) is true;
        it is re-checked after every recorded call, and every 50 ms for the store's sake."""
        async def holds() -> bool:
            value = predicate()
            return bool(await value if inspect.isawaitable(value) else value)

        async def check() -> None:
            async with self._changed:
                while not await holds():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)
        await asyncio.wait_for(check(), timeout)

    async def send_envelope(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Push a Socket Mode envelope and return the app's acknowledgement."""
        await asyncio.wait_for(self._socket_ready.wait(), timeout)
        envelope_id = uuid.uuid4().hex
        await self._sockets[-1].send_str(json.dumps({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": "",
        }))
        await self.wait_for(lambda: any(a.get("envelope_id") == envelope_id for a in self.socket_acks), timeout)
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)

    # ---- handlers ------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        await self._record(Call(method, args, token))
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return _slack({"ok": False, "error": "invalid_auth"})
        if method in self.fail:
            return _slack({"ok": False, "error": self.fail[method]})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _slack({"ok": False, "error": "unknown_method"})
        return _slack(handler(args))

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "sora",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BBOT"}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        ts = self._next_ts()
        msg = {"type": "message", "user": BOT_USER_ID, "bot_id": "BBOT", "text": args.get("text", ""),
               "ts": ts, "blocks": args.get("blocks")}
        if args.get("thread_ts"):
            msg["thread_ts"] = args["thread_ts"]
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        msg = self.message(args["channel"], args["ts"])
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        msg["text"] = args.get("text", "")
        if args.get("blocks"):
            blocks = args["blocks"]
            msg["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
        msg.setdefault("edits", []).append(msg["text"])
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": msg["text"]}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        msgs = self.messages.get(args["channel"], [])
        msg = self.message(args["channel"], args["ts"])
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        msgs.remove(msg)
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _m_files_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        if args["file"] not in self.uploads:
            return {"ok": False, "error": "file_not_found"}
        del self.uploads[args["file"]]
        return {"ok": True}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        msgs = [m for m in self.messages.get(args["channel"], []) if "thread_ts" not in m
                or m["thread_ts"] == m["ts"]]
        latest = args.get("latest")
        if latest:
            inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
            msgs = [m for m in msgs if m["ts"] < latest or (inclusive and m["ts"] == latest)]
        msgs = sorted(msgs, key=lambda m: m["ts"], reverse=True)[: int(args.get("limit", 100))]
        return {"ok": True, "messages": msgs, "has_more": False}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = args["ts"]
        msgs = self.messages.get(args["channel"], [])
        target = next((m for m in msgs if m["ts"] == ts), None)
        if target is None:
            return {"ok": False, "error": "thread_not_found"}
        root = target.get("thread_ts", ts)
        thread = [m for m in msgs if m["ts"] == root or m.get("thread_ts") == root]
        return {"ok": True, "messages": sorted(thread, key=lambda m: m["ts"]), "has_more": False}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["user"])
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(args["file"])
        return {"ok": True, "file": self.file_object(f)} if f else {"ok": False, "error": "file_not_found"}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        self._upload_names[file_id] = args.get("filename", "")
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}/upload/{file_id}"}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Shares the files as Slack does: a message in the channel (or thread) carrying them."""
        files = [{"id": f["id"], "title": f.get("title"), "name": self._upload_names.get(f["id"], "")}
                 for f in json.loads(args["files"])]
        channel = args.get("channel_id")
        if channel:
            msg = {"type": "message", "user": BOT_USER_ID, "bot_id": "BBOT", "ts": self._next_ts(),
                   "text": args.get("initial_comment", ""), "files": files}
            if args.get("thread_ts"):
                msg["thread_ts"] = args["thread_ts"]
            self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "files": files}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V1"}}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self._uploading += 1
        self.most_uploads_at_once = max(self.most_uploads_at_once, self._uploading)
        try:
            await asyncio.sleep(self.upload_seconds)
            return await self._take_upload(request, file_id)
        finally:
            self._uploading -= 1

    async def _take_upload(self, request: web.Request, file_id: str) -> web.Response:
        if self.drop_uploads > 0:  # the network fails mid-upload
            self.drop_uploads -= 1
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        self.uploads[file_id] = await request.read()
        await self._record(Call("upload", {"file_id": file_id, "length": len(self.uploads[file_id])}, None))
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _download(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        auth = request.headers.get("Authorization")
        await self._record(Call("download", {"file_id": request.match_info["file_id"]}, auth))
        if f is None or auth != f"Bearer {BOT_TOKEN}" or f.login_page:
            return web.Response(body=LOGIN_PAGE, content_type="text/html")  # Slack answers 200
        return web.Response(body=f.content, content_type=f.mimetype)

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        await self._record(Call("response_url", body, None))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A1"}}))
        self._socket_ready.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    await self._record(Call("socket_ack", json.loads(msg.data), None))
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_ready.clear()
        return ws


def _slack(body: dict[str, Any]) -> web.Response:
    return web.json_response(body)
