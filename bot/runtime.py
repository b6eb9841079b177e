"""The process's shared pieces, opened once in the entry point and handed down."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from bot.apimaster import ApiMasterClient
from bot.budgets import Budgets
from bot.chat import ChatJobs
from bot.engine import JobEngine
from bot.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    session: aiohttp.ClientSession
    client: ApiMasterClient
    budgets: Budgets
    engine: JobEngine
    chat: ChatJobs


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """One store, one HTTP session, one engine, for the video service `settings` name."""
    async with contextlib.AsyncExitStack() as stack:
        store = Store(settings.db_path)
        stack.callback(store.close)
        connector = aiohttp.TCPConnector(limit=max(100, settings.max_concurrent_jobs))
        session = await stack.enter_async_context(aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=settings.http_timeout)))
        client = ApiMasterClient(session, settings)
        budgets = Budgets(settings, store)
        engine = JobEngine(settings, store, client, budgets)
        stack.push_async_callback(engine.aclose)
        yield Runtime(settings, store, session, client, budgets, engine,
                      ChatJobs(settings, engine, budgets))
