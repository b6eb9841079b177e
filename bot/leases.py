"""One owner per job. A process works on a job only while it holds the job's lease; it renews
the leases of all its jobs together on a heartbeat, and a job whose owner died is taken by
another process once its lease has run out. Taking is one atomic update in the store."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Collection
from typing import Any

from storage.store import Store

log = logging.getLogger(__name__)


class Leases:
    def __init__(self, store: Store, seconds: float) -> None:
        self.store = store
        self.seconds = max(seconds, 0.3)
        #: Names this process in the store: host, pid and a nonce (pids are reused).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._beat: asyncio.Task[None] | None = None
        self._held = False  # whether this process ever held a job, so has any to let go

    def claim(self) -> dict[str, Any]:
        """The columns that make a new job ours."""
        self._held = True
        return {"owner": self.owner, "lease_until": time.time() + self.seconds}

    async def take(self, job_id: str) -> bool:
        """Whether the job is now ours: unfinished, and nobody else's live lease holds it."""
        now = time.time()
        taken = await self.store.take(job_id, self.owner, now, now + self.seconds)
        self._held = self._held or taken
        return taken

    def keep_alive(self, working: Callable[[], Collection[str]],
                   lost: Callable[[str], None]) -> None:
        """Renew our leases every third of a lease while `working()` names jobs; call
        `lost(job_id)` for a job another process has taken (we stalled past our lease)."""
        if self._beat is None or self._beat.done():
            self._beat = asyncio.create_task(self._heartbeat(working, lost), name="leases")

    async def _heartbeat(self, working: Callable[[], Collection[str]],
                         lost: Callable[[str], None]) -> None:
        while ids := list(working()):
            await asyncio.sleep(self.seconds / 3)
            try:
                taken = await self.store.renew(self.owner, time.time() + self.seconds, ids)
            except Exception:  # a busy database: try again at the next beat
                log.warning("Renewing job leases failed; trying again", exc_info=True)
                continue
            for job_id in taken:
                log.warning("Job %s was taken over by another process; leaving it", job_id)
                lost(job_id)

    async def aclose(self) -> None:
        """A clean stop: our jobs are free for the next process at once."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        if self._held:
            await self.store.let_go(self.owner)
