"""The library, sequences and offers, on a real store and engine against the stand-in."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from bot import library
from bot.errors import InvalidRequest
from bot.models import Requester, VideoRequest
from bot.offers import OfferGone, Offers
from bot.texts import PLAIN, headline
from tests.fakes.recorder import RecordingEvents

ANN = Requester("cli", "team", "ann")


async def _made(runtime, prompt: str, **lineage) -> str:
    accepted = await runtime.engine.submit(VideoRequest(prompt), ANN, RecordingEvents(), **lineage)
    job = await runtime.engine.wait(accepted.job.id)
    assert job.status == "delivered"
    return job.id


async def test_a_sequence_is_its_first_clip_and_every_continuation(runtime, stand_in) -> None:
    first = await _made(runtime, "a boat")
    second = await _made(runtime, "the sea", parent=first, sequence=first)
    edited = await _made(runtime, "a red boat", parent=first)
    store = runtime.store
    clips = await library.sequence(store, await library.find(store, second))
    assert [c.id for c in clips] == [first, second]
    assert await library.is_last_clip(store, clips[1]) and not await library.is_last_clip(store, clips[0])
    assert library.sequence_of(await library.find(store, second)) == first
    edited_job = await library.find(store, edited)
    assert edited_job.parent == first and edited_job.sequence is None
    assert f"continues {first}" in headline(clips[1], PLAIN)
    _, path = await library.stitch_sequence(store, runtime.settings, second)
    assert path.stat().st_size > 0
    with pytest.raises(InvalidRequest, match="not part of a sequence"):
        await library.stitch_sequence(store, runtime.settings, edited)
    with pytest.raises(InvalidRequest, match="no job"):
        await library.find(store, first, team="another team")


async def test_prune_deletes_old_files_never_ledger_rows(runtime, stand_in) -> None:
    job_id = await _made(runtime, "a boat")
    settings = runtime.settings.with_(keep_videos_days=3)
    path = (await library.stored_video(runtime.store, job_id))[1]
    assert await library.prune(runtime.store, settings) == []  # made just now: kept
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3, minutes=1)
    assert await library.prune(runtime.store, settings, now=later) == [job_id]
    assert not path.exists() and await runtime.store.ledger_state(job_id) == "spent"
    with pytest.raises(library.VideoGone, match=r"was deleted on .*\(SORA_KEEP_VIDEOS_DAYS\)"):
        await library.stored_video(runtime.store, job_id)
    assert await library.prune(runtime.store, settings, now=later) == []  # once
    assert await library.prune(runtime.store, runtime.settings, now=later) == []  # unset: keep all


def test_an_offer_is_for_its_requester_once_and_expires() -> None:
    offers = Offers(ttl=60)
    offer = offers.make(VideoRequest("x"), ANN, 3_000_000, {"channel": 1})
    with pytest.raises(OfferGone, match="Only the member who asked"):
        offers.take(offer.id, Requester("cli", "team", "bob"))
    assert offers.take(offer.id, ANN).context == {"channel": 1}
    with pytest.raises(OfferGone, match="expired or was already answered"):
        offers.take(offer.id, ANN)
    short = Offers(ttl=0)
    late = short.make(VideoRequest("x"), ANN, 3_000_000)
    time.sleep(0.01)
    with pytest.raises(OfferGone):
        short.take(late.id, ANN)
