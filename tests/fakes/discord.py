"""A fake Discord on 127.0.0.1: the gateway websocket and the REST API, recording every call.

Speaks just enough of the real wire protocol for the real discord.py client (2.7) to connect,
receive interactions and reactions, and send, edit and upload messages.
"""
from __future__ import annotations

import asyncio
import inspect
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import LoopbackServer

API = "/api/v10"
MIB = 1024 * 1024
MANAGE_GUILD = 1 << 5
#: Permissions of an ordinary member (view channel, send messages, attach files, ...).
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 15) | (1 << 16) | (1 << 31)


@dataclass
class Call:
    """One REST request the client made."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. /channels/3000/messages
    json: Any = None  # JSON body, or multipart payload_json
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, bytes)
    query: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str:
        if not isinstance(self.json, dict):
            return ""
        return self.json.get("content") or ""


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes only an exact `application/json` content type (no charset).
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class FakeDiscord(LoopbackServer):
    """One guild with one text channel, a bot application and a gateway that can push events."""

    APP_ID = 1000
    GUILD_ID = 2000
    CHANNEL_ID = 3000

    def __init__(self, *, premium_tier: int = 0, allow_message_content: bool = True) -> None:
        self.premium_tier = premium_tier
        self.allow_message_content = allow_message_content
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.threads: dict[int, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.identifies: list[dict[str, Any]] = []
        #: How many of the next uploads are made but their answers lost (dropped connection).
        self.lose_upload_answers = 0
        self._ids = itertools.count(900_000)
        self._seq = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self._ready = asyncio.Event()

    # -- server ----------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * MIB)
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        await self._serve(app)
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gw"

    def next_id(self) -> int:
        return next(self._ids)

    # -- payloads --------------------------------------------------------------------------

    def user(self, user_id: int, name: str = "user", bot: bool = False) -> dict[str, Any]:
        return {"id": str(user_id), "username": name, "global_name": name.title(),
                "discriminator": "0", "avatar": None, "bot": bot}

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.user(self.APP_ID, "sora-bot", bot=True)

    def member(self, user_id: int, name: str, permissions: int = MEMBER_PERMISSIONS) -> dict[str, Any]:
        return {"user": self.user(user_id, name), "roles": [], "nick": None,
                "joined_at": _now(), "deaf": False, "mute": False, "flags": 0,
                "permissions": str(permissions)}

    def channel(self) -> dict[str, Any]:
        return {"id": str(self.CHANNEL_ID), "type": 0, "guild_id": str(self.GUILD_ID),
                "name": "general", "position": 0, "permission_overwrites": [], "nsfw": False,
                "parent_id": None, "topic": None, "last_message_id": None,
                "rate_limit_per_user": 0}

    def guild(self) -> dict[str, Any]:
        return {"id": str(self.GUILD_ID), "name": "Test Server", "owner_id": "1",
                "premium_tier": self.premium_tier, "features": [], "emojis": [], "stickers": [],
                "roles": [{"id": str(self.GUILD_ID), "name": "@everyone", "permissions": "0",
                           "position": 0, "color": 0, "hoist": False, "managed": False,
                           "mentionable": False, "flags": 0}],
                "channels": [self.channel()], "members": [], "member_count": 2,
                "large": False, "unavailable": False, "system_channel_id": None,
                "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
                "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
                "preferred_locale": "en-US", "premium_subscription_count": 0}

    def attachment(self, filename: str = "cat.png", content_type: str = "image/png",
                   size: int = 1234) -> dict[str, Any]:
        aid = self.next_id()
        url = f"https://cdn.discordapp.com/attachments/{self.CHANNEL_ID}/{aid}/{filename}?ex=1&is=2&hm=3"
        return {"id": str(aid), "filename": filename, "size": size, "url": url,
                "proxy_url": url, "content_type": content_type}

    def message(self, content: str, author: dict[str, Any], *,
                attachments: list[dict[str, Any]] | None = None,
                channel_id: int | None = None, store: bool = True, **extra: Any) -> dict[str, Any]:
        """A channel message (a user's, or one the bot sent); stored so GET can find it."""
        msg = {"id": str(self.next_id()), "channel_id": str(channel_id or self.CHANNEL_ID),
               "guild_id": str(self.GUILD_ID), "author": author, "content": content,
               "timestamp": _now(), "edited_timestamp": None, "tts": False,
               "mention_everyone": False, "mentions": [], "mention_roles": [],
               "attachments": attachments or [], "embeds": [], "pinned": False, "type": 0,
               "components": [], "flags": 0, **extra}
        if store:
            self.messages[int(msg["id"])] = msg
        return msg

    # -- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self._ready.clear()  # a new client: events wait for its IDENTIFY
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op = payload.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                await self._identify(ws, payload["d"])
        if self._ws is ws:
            self._ws = None
            self._ready.clear()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        if data.get("intents", 0) & (1 << 15) and not self.allow_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        ready = {"v": 10, "user": self.bot_user, "guilds": [self.guild()], "session_id": "session-1",
                 "resume_gateway_url": self.gateway_url, "private_channels": [],
                 "application": {"id": str(self.APP_ID), "flags": 0}}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        self._ready.set()

    def expect_new_client(self) -> None:
        """Forget the current connection: `connected()` waits for the next IDENTIFY."""
        self._ready.clear()

    async def connected(self, timeout: float = 10.0) -> None:
        """Wait until a client has identified."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await self.connected()
        assert self._ws is not None
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    # -- events a user causes --------------------------------------------------------------

    async def _interaction(self, kind: int, data: dict[str, Any], member: dict[str, Any], *,
                           attachment_size_limit: int, message: dict[str, Any] | None = None,
                           app_permissions: int = (1 << 53) - 1) -> str:
        iid = self.next_id()
        token = f"token-{iid}"
        payload = {"id": str(iid), "application_id": str(self.APP_ID), "type": kind,
                   "token": token, "version": 1, "data": data, "guild_id": str(self.GUILD_ID),
                   "channel_id": str(self.CHANNEL_ID), "channel": self.channel(), "member": member,
                   "app_permissions": str(app_permissions), "locale": "en-US",
                   "attachment_size_limit": attachment_size_limit}
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    async def slash(self, name: str, options: dict[str, Any] | None = None, *, user_id: int = 42,
                    user_name: str = "alice", permissions: int = MEMBER_PERMISSIONS,
                    attachments: list[dict[str, Any]] | None = None, subcommand: str | None = None,
                    attachment_size_limit: int = 10 * MIB, app_permissions: int = (1 << 53) - 1) -> str:
        """A slash command; `options` maps names to values (an attachment option takes its id)."""
        types = {bool: 5, int: 4, float: 10, str: 3}
        opts: list[dict[str, Any]] = []
        for key, value in (options or {}).items():
            if key == "member":
                kind = 6
            elif attachments and str(value) in {a["id"] for a in attachments}:
                kind = 11
            else:
                kind = types[type(value)]
            opts.append({"name": key, "type": kind, "value": str(value) if kind in (6, 11) else value})
        data: dict[str, Any] = {"id": str(self.next_id()), "name": name, "type": 1, "options": opts}
        if subcommand:
            data["options"] = [{"name": subcommand, "type": 1, "options": opts}]
        resolved: dict[str, Any] = {}
        if attachments:
            resolved["attachments"] = {a["id"]: a for a in attachments}
        if "member" in (options or {}):
            uid = str(options["member"])  # type: ignore[index]
            resolved["users"] = {uid: self.user(int(uid), f"user{uid}")}
            m = self.member(int(uid), f"user{uid}")
            m.pop("user")
            resolved["members"] = {uid: m}
        if resolved:
            data["resolved"] = resolved
        return await self._interaction(2, data, self.member(user_id, user_name, permissions),
                                       attachment_size_limit=attachment_size_limit,
                                       app_permissions=app_permissions)

    async def autocomplete(self, name: str, options: dict[str, Any], focused: str, *,
                           user_id: int = 42) -> str:
        """A member typing into option `focused` of a slash command (interaction type 4)."""
        types = {int: 4, str: 3}
        opts = [{"name": key, "type": types[type(value)], "value": value, "focused": key == focused}
                for key, value in options.items()]
        data = {"id": str(self.next_id()), "name": name, "type": 1, "options": opts}
        return await self._interaction(4, data, self.member(user_id, "alice"),
                                       attachment_size_limit=10 * MIB)

    async def message_command(self, name: str, target: dict[str, Any], *, user_id: int = 42,
                              user_name: str = "alice", attachment_size_limit: int = 10 * MIB) -> str:
        data = {"id": str(self.next_id()), "name": name, "type": 3, "target_id": target["id"],
                "resolved": {"messages": {target["id"]: target}}}
        return await self._interaction(2, data, self.member(user_id, user_name),
                                       attachment_size_limit=attachment_size_limit)

    async def press(self, custom_id: str, message: dict[str, Any], *, user_id: int = 42,
                    user_name: str = "alice", attachment_size_limit: int = 10 * MIB,
                    permissions: int = MEMBER_PERMISSIONS) -> str:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interaction(3, data, self.member(user_id, user_name, permissions),
                                       message=message, attachment_size_limit=attachment_size_limit)

    async def react(self, message: dict[str, Any], emoji: str, *, user_id: int = 42,
                    user_name: str = "alice") -> None:
        await self.dispatch("MESSAGE_REACTION_ADD", {
            "user_id": str(user_id), "channel_id": message["channel_id"],
            "message_id": message["id"], "guild_id": str(self.GUILD_ID),
            "member": self.member(user_id, user_name), "emoji": {"id": None, "name": emoji},
            "type": 0, "burst": False, "message_author_id": message["author"]["id"],
        })

    # -- queries for tests -----------------------------------------------------------------

    def find(self, method: str, pattern: str) -> list[Call]:
        rx = re.compile(pattern)
        return [c for c in self.calls if c.method == method and rx.fullmatch(c.path)]

    def channel_posts(self) -> list[Call]:
        return self.find("POST", rf"/channels/{self.CHANNEL_ID}/messages")

    def uploads(self) -> list[Call]:
        return [c for c in self.channel_posts() if c.files]

    def messages_by_content(self, text: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if text in (m.get("content") or "")]

    def edits(self, message_id: int | str | None = None) -> list[Call]:
        mid = message_id if message_id is not None else r"\d+"
        return self.find("PATCH", rf"/channels/{self.CHANNEL_ID}/messages/{mid}")

    def followups(self, token: str) -> list[Call]:
        return (self.find("POST", rf"/webhooks/{self.APP_ID}/{token}")
                + self.find("PATCH", rf"/webhooks/{self.APP_ID}/{token}/messages/.+"))

    def callbacks(self, token: str) -> list[Call]:
        return self.find("POST", rf"/interactions/\d+/{token}/callback")

    def replies(self, token: str) -> list[str]:
        """Everything the user saw in answer to an interaction, in order."""
        out = [((c.json or {}).get("data") or {}).get("content") for c in self.callbacks(token)]
        out += [(c.json or {}).get("content") for c in self.followups(token)]
        return [text for text in out if text]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Poll until `check()` (or the coroutine it returns: the store is async) is truthy;
        return its value."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if loop.time() > end:
                raise AssertionError(f"timed out waiting; calls so far: {[ (c.method, c.path) for c in self.calls]}")
            await asyncio.sleep(0.02)

    # -- REST ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        call = Call(request.method, path, query=dict(request.query))
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:  # type: ignore[union-attr]
                if part.name == "payload_json":
                    call.json = json.loads(await part.text())  # type: ignore[union-attr]
                elif part.name and part.name.startswith("files["):
                    call.files.append((part.filename or "", bytes(await part.read())))  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            call.json = json.loads(raw) if raw else None
        self.calls.append(call)
        response = self._answer(call)
        if call.files and self.lose_upload_answers > 0:
            # The message is made, but its answer never reaches the bot.
            self.lose_upload_answers -= 1
            if request.transport is not None:
                request.transport.close()
        return response

    def _answer(self, call: Call) -> web.Response:
        m, p, body = call.method, call.path, call.json if isinstance(call.json, dict) else {}
        app = self.APP_ID
        if m == "GET" and p == "/users/@me":
            return _json(self.bot_user)
        if m == "GET" and p == "/oauth2/applications/@me":
            return _json({"id": str(app), "name": "sora-bot", "description": "", "icon": None,
                          "bot_public": True, "bot_require_code_grant": False,
                          "owner": self.user(1, "owner"), "verify_key": "0" * 64, "flags": 0})
        if m == "PUT" and (hit := re.fullmatch(rf"/applications/{app}(/guilds/\d+)?/commands", p)):
            commands = [{"description": "", "options": [], "type": 1, "dm_permission": True,
                         "default_member_permissions": None, "nsfw": False,
                         **c, "id": str(self.next_id()), "application_id": str(app), "version": "1"}
                        for c in call.json or []]
            self.commands[hit.group(1) or "global"] = commands
            return _json(commands)
        if m == "GET" and re.fullmatch(rf"/applications/{app}(/guilds/\d+)?/commands", p):
            return _json([])
        if m == "POST" and (hit := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)):
            flags = ((body.get("data") or {}).get("flags") or 0)
            return _json({"interaction": {"id": hit.group(1), "type": body.get("type"),
                                          "response_message_loading": body.get("type") == 5,
                                          "response_message_ephemeral": bool(flags & 64)}})
        if m == "POST" and re.fullmatch(rf"/webhooks/{app}/[^/]+", p):
            return _json(self._create(call, author=self.bot_user))
        if m in ("PATCH", "GET") and (hit := re.fullmatch(rf"/webhooks/{app}/[^/]+/messages/(.+)", p)):
            return _json(self.message(body.get("content") or "", self.bot_user, store=False))
        if m == "POST" and (hit := re.fullmatch(r"/channels/(\d+)/messages", p)):
            nonce = body.get("nonce")
            if nonce is not None and body.get("enforce_nonce"):
                # Discord: a second message with the same nonce from the same author, within
                # minutes, returns the first instead of posting again.
                same = [msg for msg in self.messages.values() if msg.get("nonce") == nonce
                        and msg["channel_id"] == hit.group(1)]
                if same:
                    return _json(same[0])
            return _json(self._create(call, author=self.bot_user))
        if m == "GET" and (hit := re.fullmatch(r"/channels/(\d+)/messages", p)):
            limit = int(call.query.get("limit", "50"))
            history = sorted((msg for msg in self.messages.values() if msg["channel_id"] == hit.group(1)),
                             key=lambda msg: int(msg["id"]), reverse=True)
            return _json(history[:limit])
        if m == "POST" and (hit := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", p)):
            return self._start_thread(int(hit.group(1)), int(hit.group(2)), body)
        if m == "DELETE" and (hit := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)):
            if self.messages.pop(int(hit.group(2)), None) is None:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return web.Response(status=204)
        if (hit := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)):
            msg = self.messages.get(int(hit.group(2)))
            if msg is None:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            if m == "PATCH":
                msg.update({k: v for k, v in body.items() if k in ("content", "components", "embeds")})
                msg["edited_timestamp"] = _now()
            return _json(msg)
        if m == "GET" and re.fullmatch(rf"/channels/{self.CHANNEL_ID}", p):
            return _json(self.channel())
        if m == "GET" and re.fullmatch(rf"/guilds/{self.GUILD_ID}", p):
            return _json(self.guild())
        return _json({"message": f"fake Discord has no route {m} {p}", "code": 0}, status=404)

    def _start_thread(self, channel_id: int, message_id: int, body: dict[str, Any]) -> web.Response:
        """A thread started from a message shares the message's id; once per message."""
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        if message_id in self.threads:
            return _json({"message": "A thread has already been created for this message",
                          "code": 160004}, status=400)
        thread = {"id": str(message_id), "type": 11, "guild_id": str(self.GUILD_ID),
                  "parent_id": str(channel_id), "owner_id": str(self.APP_ID),
                  "name": body.get("name") or "thread", "last_message_id": None,
                  "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": _now(), "locked": False}}
        self.threads[message_id] = thread
        return _json(thread, status=201)

    def thread_posts(self, thread_id: int | str) -> list[Call]:
        return self.find("POST", rf"/channels/{thread_id}/messages")

    async def submit_modal(self, token: str, values: dict[str, str], *, user_id: int = 42,
                           user_name: str = "alice") -> str:
        """Fill in and submit the modal that answered interaction `token` (callback type 9):
        an interaction of type 5 (MODAL_SUBMIT). Fields not in `values` keep their default."""
        form = await self.modal(token)
        rows = []
        for row in form["components"]:
            inputs = row["components"] if row.get("type") == 1 else [row.get("component", row)]
            rows.append({"type": 1, "components": [
                {"type": 4, "custom_id": c["custom_id"],
                 "value": values.get(c["custom_id"], c.get("value") or "")} for c in inputs]})
        data = {"custom_id": form["custom_id"], "components": rows}
        return await self._interaction(5, data, self.member(user_id, user_name),
                                       attachment_size_limit=10 * MIB)

    async def modal(self, token: str) -> dict[str, Any]:
        """The modal the bot answers interaction `token` with (waits for it)."""
        def found() -> dict[str, Any] | None:
            return next((c.json["data"] for c in self.callbacks(token)
                         if (c.json or {}).get("type") == 9), None)
        return await self.wait_for(found)

    def _create(self, call: Call, author: dict[str, Any]) -> dict[str, Any]:
        body = call.json if isinstance(call.json, dict) else {}
        attachments = [{**self.attachment(name, "image/png" if name.endswith(".png") else "video/mp4",
                                          len(data))} for name, data in call.files]
        channel = re.fullmatch(r"/channels/(\d+)/messages", call.path)
        extra: dict[str, Any] = {}
        if body.get("message_reference"):
            extra["message_reference"] = body["message_reference"]
        if body.get("nonce") is not None:
            extra["nonce"] = body["nonce"]
        return self.message(body.get("content") or "", author, attachments=attachments,
                            channel_id=int(channel.group(1)) if channel else None,
                            components=body.get("components") or [], **extra)
