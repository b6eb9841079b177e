"""The dashboard in a real headless Chromium (Debian's, driven by Playwright), signed in with
a link printed by the real `sora-bot admin-link` process. Saves the README's screenshots."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.models import iso, usd
from tests.adapters.dashboard.conftest import Console

# The README's screenshots are refreshed with SORA_SCREENSHOTS=docs; otherwise they go to a
# temporary folder, so a test run leaves the work tree as it found it.
DOCS = (Path(__file__).resolve().parents[3] / "docs" if os.environ.get("SORA_SCREENSHOTS") == "docs"
        else Path(tempfile.gettempdir()))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[test]')")
    # SORA_TEST_CHROMIUM: another browser binary (or a missing one, to see the skip).
    executable = os.environ.get("SORA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as p:
        try:
            chromium = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # no browser on this machine: say how to get one
            pytest.skip(f"Chromium could not start ({type(exc).__name__}); install Debian's "
                        f"chromium: apt-get install -y chromium")
        try:
            yield chromium
        finally:
            await chromium.close()


async def _history(console: Console) -> None:
    """Two members' videos over the past days, and another team's, made by the engine
    against the stand-in; some are then dated back so the 30-day chart has a history."""
    made = []
    for user, name, prompt, model, seconds in [
        ("ann", "Ann", "A red fox trotting through fresh snow at dawn", "sora-2", 8),
        ("bob", "Bob", "A humpback whale breaching beside a sailboat", "sora-2-pro", 4),
        ("ann", "Ann", "Paper boats racing down a rainy street", "sora-2", 4),
        ("bob", "Bob", "Time-lapse of a city skyline from day to night", "sora-2", 12),
        ("ann", "Ann", "A cat astronaut floating past the moon", "sora-2-pro", 8),
    ]:
        made.append(await console.make_job(user, prompt, name=name, model=model, duration=seconds))
    await console.make_job("carol", "The other team's secret launch video", team="other", name="Carol")
    today = dt.datetime.now(dt.UTC)
    for job, days_ago in zip(made[:3], (2, 1, 1)):  # keep them in this month
        if today.day - days_ago < 1:
            continue
        when = iso(today - dt.timedelta(days=days_ago))
        async with console.rt.store.db.transaction() as tx:
            await tx.execute("UPDATE jobs SET created_at = ?, updated_at = ? WHERE id = ?",
                             [when, when, job.id])
            await tx.execute("UPDATE ledger SET created_at = ? WHERE job_id = ?", [when, job.id])


async def test_overview_library_and_budgets_in_a_real_browser(console: Console, browser: Any) -> None:
    await _history(console)
    assert console.cli("quota", "set", "--team", "local", "--daily", "4", "--monthly", "40").returncode == 0
    month = await console.rt.store.spend_by_user("local", iso(dt.datetime.now(dt.UTC).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0)))
    link = console.link("local")
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()

    await page.goto(link)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"{console.url}/")
    members = await page.inner_text("#members")
    for row in month:
        name = {"ann": "Ann", "bob": "Bob"}[row["user"]]
        assert name in members and usd(row["micros"]) in members
    charts = page.locator("svg.chart")
    assert await charts.count() == 3
    bars = await page.locator("svg.chart rect").evaluate_all(
        "rects => rects.filter(r => r.getBBox().height > 0 && r.getBBox().width > 0).length")
    assert bars >= 4  # days with spend, two members, two models
    text = await page.inner_text("body")
    assert "Carol" not in text and "secret launch" not in text and "other" not in text.lower()
    DOCS.mkdir(exist_ok=True)
    await page.screenshot(path=str(DOCS / "dashboard-overview.png"), full_page=True)

    await page.click("nav >> text=Videos")
    await page.wait_for_load_state("networkidle")
    cards = page.locator("#library article.video")
    assert await cards.count() == 5
    assert "Carol" not in await page.inner_text("body")
    poster = await page.locator("video").first.get_attribute("poster")
    thumb = await context.request.get(f"{console.url}{poster}")  # the browser's own cookie
    assert thumb.ok and (await thumb.body())[:3] == b"\xff\xd8\xff"
    await page.screenshot(path=str(DOCS / "dashboard-library.png"), full_page=True)
    await page.select_option("select[name=user]", "bob")
    await page.click("form.filters button")
    assert await cards.count() == 2

    await page.click("nav >> text=Budgets")
    await page.fill("input[name=user]", "ann")
    await page.fill("input[name=daily]", "2.50")
    await page.click("form[action='/budgets'] button")
    assert "Saved the budget of ann" in await page.inner_text("main")
    audit = await page.inner_text("#audit")
    assert "web" in audit and "cli" in audit
    assert "local/ann: daily $2.50" in console.cli("quota", "show").stdout

    await page.click("button:has-text('Sign out')")
    await page.wait_for_url(f"{console.url}/logout")
    assert "signed out" in await page.inner_text("main")
    response = await page.goto(f"{console.url}/")
    assert response is not None and response.status == 401
    response = await page.goto(link)  # the link again: it worked once
    assert response is not None and response.status == 403
    await context.close()


async def test_the_video_plays_in_the_browser(console: Console, browser: Any) -> None:
    await console.make_job("ann", "A red fox trotting through fresh snow", name="Ann")
    page = await browser.new_page()
    await page.goto(console.link("local"))
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(f"{console.url}/")
    await page.goto(f"{console.url}/jobs")
    video = page.locator("video").first
    # Debugger-driven evaluation runs despite the page's no-script policy.
    state = await video.evaluate("""v => new Promise(done => {
        v.muted = true; v.preload = 'auto';
        v.addEventListener('loadedmetadata', () => done({ok: true, duration: v.duration, w: v.videoWidth}));
        v.addEventListener('error', () => done({ok: false, code: v.error && v.error.code}));
        v.load();
    })""")
    assert state["ok"] and state["duration"] > 0 and state["w"] > 0, state
