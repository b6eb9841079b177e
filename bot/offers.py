"""Offers to confirm: an expensive chat job waits here, unreserved and unsent, until whoever
asked for it presses Confirm. One use each; they expire. Kept in memory: a restart drops
them, which is the safe way round (nothing was reserved)."""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from bot.errors import SoraError
from bot.models import Requester, VideoRequest, usd

log = logging.getLogger(__name__)


class OfferGone(SoraError):
    """The offer expired, was used, or was cancelled."""

    user_message = "That offer has expired or was already answered. Ask again to make the video."


@dataclass(frozen=True)
class Offer:
    id: str
    request: VideoRequest
    requester: Requester
    cost_micros: int
    expires: float
    #: What the front end needs to start the job on Confirm (channel, parent, sequence, ...).
    context: dict[str, Any] = field(default_factory=dict)

    def text(self, threshold_micros: int) -> str:
        return (f"This video costs {usd(self.cost_micros)}, more than {usd(threshold_micros)}. "
                "Nothing is reserved or sent until you confirm; the offer expires in "
                f"{max(1, round((self.expires - time.time()) / 60))} minute(s).")


class Offers:
    """Pending requests by unguessable id."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._offers: dict[str, Offer] = {}

    def make(self, request: VideoRequest, requester: Requester, cost_micros: int,
             context: dict[str, Any] | None = None) -> Offer:
        self._drop_expired()
        offer = Offer(secrets.token_urlsafe(12), request, requester, cost_micros,
                      time.time() + self.ttl, dict(context or {}))
        self._offers[offer.id] = offer
        return offer

    def take(self, offer_id: str, requester: Requester) -> Offer:
        """The offer, removed (one use), if `requester` made it and it has not expired."""
        offer = self._offers.get(offer_id)
        if offer is None or offer.expires < time.time():
            self._offers.pop(offer_id, None)
            raise OfferGone()
        if (offer.requester.team, offer.requester.user) != (requester.team, requester.user):
            raise OfferGone("Only the member who asked for this video can confirm it.")
        return self._offers.pop(offer_id)

    def _drop_expired(self) -> None:
        now = time.time()
        for key in [k for k, o in self._offers.items() if o.expires < now]:
            del self._offers[key]
