"""Shared fixtures: the APIMaster stand-in on 127.0.0.1 and settings pointing at it."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters import stand_in as stand_in_app
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from tests import postgres

#: The store backends every store-using test runs on; SORA_TEST_BACKENDS=sqlite narrows it.
BACKENDS = [b for b in os.environ.get("SORA_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]

TEST_KEY = "sk-test-SECRET-do-not-leak-7c1f"


class StandIn:
    """A running stand-in: `base_url` for settings, `state` to read and steer."""

    def __init__(self, base_url: str, state: stand_in_app.StandInState) -> None:
        self.base_url = base_url
        self.state = state


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    state = stand_in_app.StandInState(api_key=TEST_KEY, job_seconds=0.3, retry_after=0.01)
    async with stand_in_app.running(state) as base_url:
        yield StandIn(base_url, state)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """A PostgreSQL cluster on 127.0.0.1 for the whole run, from Debian's binaries."""
    cluster = postgres.running()
    try:
        server = cluster.__enter__()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL cannot be started locally ({exc}); its backend's tests are skipped")
    yield server
    cluster.__exit__(None, None, None)


@pytest.fixture(params=BACKENDS)
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SORA_DB for one test: a fresh SQLite file, or a fresh database on the test cluster."""
    if request.param == "postgresql":
        server: postgres.Server = request.getfixturevalue("postgres_server")
        return server.new_database()
    return str(tmp_path / "sora.db")


@pytest.fixture
def settings(stand_in: StandIn, tmp_path: Path, db_target: str) -> Settings:
    """Fast timings: the pipeline runs in a fraction of a second."""
    is_url = db_target.startswith("postgresql://")
    return Settings(
        api_key=TEST_KEY, base_url=stand_in.base_url,
        db_path=tmp_path / "sora.db", db_url=db_target if is_url else "",
        media_dir=tmp_path / "videos",
        poll_first_delay=0.05, poll_interval=0.05, job_timeout=20, http_timeout=5,
        retry_base_delay=0.01, progress_min_interval=0, api_requests_per_second=0,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as rt:
        yield rt
