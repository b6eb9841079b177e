"""The local stand-in for the video service: a fake of an outside API, shipped so that the
bot does something real with no account. `open_runtime` is the core runtime, pointed at a
stand-in in this process when no API key is set."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.stand_in.app import (
    StandInState, key_fingerprint, make_app, padded_sample, running, sample_mp4, serve_forever,
)
from bot.runtime import Runtime
from bot.runtime import open_runtime as open_core_runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

NOTICE = (
    "No APIMASTER_API_KEY is set: using the local APIMaster stand-in "
    "(test clips, no real money is spent)."
)

__all__ = ["NOTICE", "StandInState", "key_fingerprint", "make_app", "open_runtime",
           "padded_sample", "running", "sample_mp4", "serve_forever", "tasks_file"]


def tasks_file(settings: Settings) -> Path:
    """The stand-in's tasks live beside the ledger that records the jobs made from them."""
    return settings.db_path.parent / "stand-in-tasks.json"


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, calls_api: bool = True) -> AsyncIterator[Runtime]:
    """The runtime; without a key, and when the caller will call the API, a stand-in runs in
    this process and the client points at it."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.uses_stand_in and calls_api:
            # Every provider of the catalogue points at the stand-in, which serves every
            # catalogue model by its rules: any model can be tried with no account. It keeps
            # its tasks beside the ledger, so an interrupted job finishes after a restart.
            state = StandInState.remembering(tasks_file(settings), catalogue=settings.catalogue)
            base_url = await stack.enter_async_context(running(state))
            settings = settings.with_(base_url=base_url, catalogue=settings.catalogue.pointed_at(base_url))
            log.debug(NOTICE)
        yield await stack.enter_async_context(open_core_runtime(settings))
