"""Password-less sign-in to the admin console: signed one-time links, and the sessions they
open. Every front end (CLI `admin-link`, Discord /sora-admin, Slack /sora admin) calls
`AdminLinks.issue`; the web adapter redeems links and checks sessions here.

Nothing secret is stored in the database: the signing key lives in a file beside it (mode
0600), sessions are kept as SHA-256 hashes of their ids, and CSRF tokens are derived from the
session id with the key, so a dump of the database opens nothing.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import SoraError
from bot.models import iso
from bot.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)

LOGIN_PATH = "/login/"


class LinkRefused(SoraError):
    """A sign-in link that is tampered with, expired or already used. One message for all:
    telling them apart would help someone guessing."""

    user_message = "This sign-in link is invalid, expired or already used. Ask for a new one."


@dataclass(frozen=True)
class Session:
    team: str
    #: Who asked for the link that opened it (login name or member id), for the audit log.
    actor: str
    #: The cookie value: shown to the browser only, never logged or stored.
    id: str = field(repr=False)
    csrf: str = field(repr=False)
    expires_at: float = 0.0


def base_url(settings: Settings) -> str:
    """Where the dashboard is reached: PUBLIC_BASE_URL, or this machine's PORT."""
    return settings.public_base_url or f"http://127.0.0.1:{settings.port}"


def key_path(settings: Settings) -> Path | None:
    if settings.admin_key_file is not None:
        return settings.admin_key_file
    db = Path(settings.db_path)
    return None if str(db) == ":memory:" else db.with_name(db.name + ".admin-key")


class AdminLinks:
    def __init__(self, settings: Settings, store: Store,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._key: bytes | None = None

    # -- links -----------------------------------------------------------------------------

    def issue(self, team: str, ttl: float | None = None, *, by: str) -> str:
        """A URL that signs its first visitor in to `team`'s dashboard, until it expires.
        `by`: who asked for it; changes made in the session are audited under that name."""
        ttl = self.settings.admin_link_ttl if ttl is None else ttl
        expires = int(self.clock() + ttl)
        payload = (f"{secrets.token_urlsafe(12)}.{_b64(team.encode())}.{_b64(by.encode())}"
                   f".{expires}")
        log.info("Issued a sign-in link for team %s, valid %d s", team, ttl)
        return f"{base_url(self.settings)}{LOGIN_PATH}{payload}.{self._sign('link', payload)}"

    async def check(self, token: str) -> tuple[str, str]:
        """(team, who asked) of a valid, unexpired, unused link, without using it up: the
        page a link opens asks for a click first, so a chat app's link preview, which
        fetches the URL, does not spend it. Raises LinkRefused."""
        link_id, team, by = self._verify(token)
        if await self.store.link_used(link_id):
            raise LinkRefused()
        return team, by

    async def redeem(self, token: str) -> tuple[str, str]:
        """(team, who asked) of a link, which cannot be used again. Raises LinkRefused."""
        link_id, team, by = self._verify(token)
        if not await self.store.use_link(link_id, team, iso(dt.datetime.now(dt.UTC))):
            log.warning("Refused a sign-in link for team %s: already used", team)
            raise LinkRefused()
        return team, by

    def _verify(self, token: str) -> tuple[str, str, str]:
        try:
            link_id, team_b64, by_b64, expires, signature = token.split(".")
            payload = f"{link_id}.{team_b64}.{by_b64}.{expires}"
            if not hmac.compare_digest(signature, self._sign("link", payload)):
                raise ValueError("bad signature")
            team, by = _unb64(team_b64), _unb64(by_b64)
            if int(expires) < self.clock():
                raise ValueError("expired")
        except ValueError as exc:  # UnicodeDecodeError and binascii.Error are ValueErrors
            log.info("Refused a sign-in link: %s", exc)  # the reason, never the token
            raise LinkRefused() from None
        return link_id, team, by

    # -- sessions --------------------------------------------------------------------------

    async def open_session(self, team: str, actor: str) -> Session:
        now = self.clock()
        await self.store.purge_sessions(now)
        session_id = secrets.token_urlsafe(32)
        expires = now + self.settings.admin_session_ttl
        await self.store.open_session(_hash(session_id), team, actor, expires,
                                      iso(dt.datetime.now(dt.UTC)))
        log.info("Opened a dashboard session for team %s", team)
        return Session(team, actor, session_id, self._sign("csrf", session_id), expires)

    async def session(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None."""
        if not session_id:
            return None
        row = await self.store.session_row(_hash(session_id), self.clock())
        if row is None:
            return None
        team, actor, expires = row
        return Session(team, actor, session_id, self._sign("csrf", session_id), expires)

    async def close_session(self, session_id: str) -> None:
        await self.store.close_session(_hash(session_id))

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(session.csrf, token or "")

    # -- the key ---------------------------------------------------------------------------

    def _sign(self, purpose: str, message: str) -> str:
        digest = hmac.new(self._signing_key(), f"{purpose}|{message}".encode(), hashlib.sha256)
        return _b64(digest.digest())

    def _signing_key(self) -> bytes:
        if self._key is None:
            path = key_path(self.settings)
            self._key = secrets.token_bytes(32) if path is None else _load_or_create_key(path)
        return self._key


def _load_or_create_key(path: Path) -> bytes:
    """Read the key, creating it on first use. O_EXCL: two processes starting together agree
    on one key (the loser reads the winner's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32).hex().encode())
        log.info("Created the admin sign-in key at %s", path)
    for _ in range(50):  # the creator may still be writing its 64 characters
        raw = path.read_bytes().strip()
        if len(raw) == 64:
            return bytes.fromhex(raw.decode())
        time.sleep(0.01)
    raise SoraError(f"The admin sign-in key file {path} is damaged; delete it to make a new one.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
