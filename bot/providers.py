"""One video-service client per provider of the catalogue, over the process's one session."""
from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.apimaster import ApiMasterClient
from bot.catalogue import BUILTIN_PROVIDER
from bot.errors import UpstreamRejected
from bot.settings import Settings

log = logging.getLogger(__name__)


class ProviderClients:
    """Routes each model to its provider's client. Every client sends its own key to its own
    origin only; downloads are queued across all of them (the bandwidth is shared)."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.settings = settings
        downloads = asyncio.Semaphore(max(1, settings.max_parallel_downloads))
        self.clients = {name: ApiMasterClient(session, settings, provider=provider,
                                              downloads=downloads)
                        for name, provider in settings.catalogue.providers.items()}

    @property
    def default(self) -> ApiMasterClient:
        """The built-in APIMaster provider's client."""
        return self.clients[BUILTIN_PROVIDER]

    @property
    def requests_sent(self) -> int:
        return sum(c.requests_sent for c in self.clients.values())

    def for_model(self, model: str) -> ApiMasterClient:
        try:
            return self.clients[self.settings.catalogue.model(model).provider]
        except KeyError:
            # A job stored before its model was removed from SORA_MODELS_FILE.
            raise UpstreamRejected(f"The model {model} is no longer in the catalogue "
                                   "(SORA_MODELS_FILE), so this job cannot continue.") from None
