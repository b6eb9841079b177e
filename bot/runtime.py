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
from bot.errors import ConfigError
from bot.providers import ProviderClients
from bot.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    session: aiohttp.ClientSession
    client: ApiMasterClient  # the built-in APIMaster provider's; `clients` has every provider's
    budgets: Budgets
    engine: JobEngine
    clients: ProviderClients
    chat: ChatJobs


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """One store, one HTTP session, one client per provider of the catalogue, one engine."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            store = await Store.open(settings.database)
        except ConnectionError as exc:  # PostgreSQL unreachable: one line naming the setting
            raise ConfigError(f"SORA_DB: {exc}") from None
        stack.push_async_callback(store.aclose)
        connector = aiohttp.TCPConnector(limit=max(100, settings.max_concurrent_jobs))
        session = await stack.enter_async_context(aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=settings.http_timeout)))
        clients = ProviderClients(session, settings)
        budgets = Budgets(settings, store)
        engine = JobEngine(settings, store, clients, budgets)
        stack.push_async_callback(engine.aclose)
        yield Runtime(settings, store, session, clients.default, budgets, engine, clients,
                      ChatJobs(settings, engine, budgets))
