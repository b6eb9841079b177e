"""The dashboard over real HTTP on 127.0.0.1, signed in with links from the real
`sora-bot admin-link` process: one-time signed links, one team per session, CSRF, the CSV
against the ledger, escaping, sign-out."""
from __future__ import annotations

import asyncio
import base64
import csv
import io
import re

from aiohttp import web

from adapters.dashboard import build_app
from bot.runtime import open_runtime
from tests.adapters.conftest import free_port
from tests.adapters.dashboard.conftest import Console, browser_like


def _csrf(page: str) -> str:
    hit = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert hit, "the form carries no CSRF token"
    return hit.group(1)


def _token(url: str) -> str:
    return url.rsplit("/login/", 1)[1]


async def test_a_link_signs_in_once_and_sets_a_safe_cookie(console: Console) -> None:
    url = console.link()
    assert url.startswith(f"{console.url}/login/")
    for _ in range(2):  # opening it (or a chat app's link preview) does not use it up
        async with console.http.get(url) as resp:
            assert resp.status == 200 and "Sign in" in await resp.text()
            assert "Set-Cookie" not in resp.headers
    async with console.http.post(url, allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/"
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on this machine; https turns it on
    assert "Max-Age=28800" in cookie  # a working day

    async with browser_like() as again:  # the same link, a second time
        for method in ("GET", "POST"):
            async with again.request(method, url) as resp:
                assert resp.status == 403 and "already used" in await resp.text()
        assert "sora_admin" not in {c.key for c in again.cookie_jar}
        async with again.get(f"{console.url}/") as resp:
            assert resp.status == 401


async def test_the_cookie_is_secure_under_https(console: Console, runtime) -> None:
    https = runtime.settings.with_(public_base_url="https://sora.example.com", port=free_port())
    async with open_runtime(https) as rt:
        runner = web.AppRunner(build_app(rt))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", https.port).start()
        try:
            url = rt.chat.links.issue("local", by="test")
            assert url.startswith("https://sora.example.com/login/")
            local = url.replace("https://sora.example.com", f"http://127.0.0.1:{https.port}")
            async with console.http.post(local, allow_redirects=False) as resp:
                assert resp.status == 303 and "Secure" in resp.headers["Set-Cookie"]
        finally:
            await runner.cleanup()


async def test_tampered_and_expired_links_open_nothing(console: Console) -> None:
    link_id, team, by, expires, signature = _token(console.link()).split(".")
    other_team = base64.urlsafe_b64encode(b"other").rstrip(b"=").decode()
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = [
        f"{link_id}.{other_team}.{by}.{expires}.{signature}",       # another team
        f"{link_id}.{team}.{by}.{int(expires) + 86400}.{signature}",  # a later expiry
        f"{link_id}.{team}.{by}.{expires}.{flipped}",               # a changed signature
        f"{link_id}.{team}.{by}.{expires}",                         # no signature
        "garbage",
    ]
    short = console.link("local", "--ttl", "1")
    await asyncio.sleep(2.1)
    for token in [*forged, _token(short)]:
        async with browser_like() as client:
            for method in ("GET", "POST"):
                async with client.request(method, f"{console.url}/login/{token}") as resp:
                    assert resp.status == 403, token
                    assert "invalid, expired or already used" in await resp.text()
            async with client.get(f"{console.url}/") as resp:
                assert resp.status == 401
    async with console.rt.store.db.connection() as tx:
        assert (await tx.fetchone("SELECT COUNT(*) AS n FROM admin_sessions"))["n"] == 0


async def test_pages_need_a_session(console: Console) -> None:
    for path in ("/", "/jobs", "/budgets", "/export.csv"):
        async with console.http.get(console.url + path) as resp:
            assert resp.status == 401, path
            assert "admin-link" in await resp.text()
    async with console.http.get(console.url + "/", cookies={"sora_admin": "made-up"}) as resp:
        assert resp.status == 401


async def test_a_session_sees_its_team_only(console: Console) -> None:
    ann = await console.make_job("ann", "a red fox in the snow", name="Ann")
    await console.make_job("bob", "a whale at dawn", name="Bob", model="sora-2-pro")
    carol = await console.make_job("carol", "the other team's secret plan", team="other", name="Carol")
    async with await console.signed_in("local") as client:
        pages = {}
        for path in ("/", "/jobs", "/budgets", "/export.csv"):
            async with client.get(console.url + path) as resp:
                assert resp.status == 200, path
                pages[path] = await resp.text()
        async with client.get(f"{console.url}/jobs/{carol.id}/video.mp4") as resp:
            assert resp.status == 404
        async with client.get(f"{console.url}/jobs/{carol.id}/thumb.jpg") as resp:
            assert resp.status == 404
        async with client.get(f"{console.url}/jobs/{ann.id}/video.mp4") as resp:
            assert resp.status == 200 and resp.content_type == "video/mp4"
            assert (await resp.read())[4:8] == b"ftyp"
        async with client.get(f"{console.url}/jobs/{ann.id}/thumb.jpg") as resp:
            assert resp.status == 200 and (await resp.read())[:3] == b"\xff\xd8\xff"  # a JPEG
    assert (console.rt.settings.media_dir / "thumbs" / f"{ann.id}.jpg").exists()  # cached
    everything = "".join(pages.values())
    assert "Ann" in pages["/"] and "Bob" in pages["/"] and "<svg" in pages["/"]
    assert "a red fox" in pages["/jobs"] and "a whale" in pages["/jobs"]
    assert "carol" not in everything.lower() and "secret plan" not in everything
    assert "other" not in pages["/export.csv"]


async def test_library_filters_and_search(console: Console) -> None:
    await console.make_job("ann", "a red fox in the snow", name="Ann")
    await console.make_job("bob", "a whale at dawn", name="Bob", model="sora-2-pro")
    async with await console.signed_in() as client:
        async def shown(query: str) -> list[str]:
            async with client.get(f"{console.url}/jobs?{query}") as resp:
                return re.findall(r'<p class="prompt">([^<]*)</p>', await resp.text())

        assert await shown("") == ["a whale at dawn", "a red fox in the snow"]  # newest first
        assert await shown("user=ann") == ["a red fox in the snow"]
        assert await shown("model=sora-2-pro") == ["a whale at dawn"]
        assert await shown("q=FOX") == ["a red fox in the snow"]
        assert await shown("q=%25") == []  # a LIKE wildcard is searched for, not obeyed
        assert await shown("status=failed") == []


async def test_the_csv_adds_up_to_the_ledger(console: Console, stand_in) -> None:
    await console.make_job("ann", "one", name="Ann")
    await console.make_job("bob", "two", name="Bob", duration=8)
    stand_in.state.fail("submit", "generation")
    failed = await console.make_job("ann", "three, blocked", name="Ann")
    assert failed.status == "failed"
    async with await console.signed_in() as client:
        async with client.get(f"{console.url}/export.csv") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert "attachment" in resp.headers["Content-Disposition"]
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert {"job_id", "created_at", "team", "user", "model", "duration", "resolution", "status",
            "charged_usd"} <= set(rows[0])
    assert len(rows) == 3
    by_prompt = {r["prompt"]: r for r in rows}
    assert by_prompt["three, blocked"]["charged_usd"] == "0.000000"
    assert by_prompt["three, blocked"]["status"] == "failed"
    assert by_prompt["two"]["charged_usd"] == "0.640000" and by_prompt["two"]["duration"] == "8"
    async with console.rt.store.db.connection() as tx:
        ledger = (await tx.fetchone(
            "SELECT CAST(SUM(amount_micros) AS BIGINT) AS micros FROM ledger "
            "WHERE team = 'local' AND state = 'spent'"))["micros"]
    assert sum(round(float(r["charged_usd"]) * 1_000_000) for r in rows) == ledger == 960_000


async def test_a_budget_post_needs_the_csrf_token(console: Console) -> None:
    async with await console.signed_in() as client:
        async with client.get(f"{console.url}/budgets") as resp:
            token = _csrf(await resp.text())
        for form in ({"user": "ann", "daily": "2.50"},
                     {"user": "ann", "daily": "2.50", "csrf_token": "not-the-token"}):
            async with client.post(f"{console.url}/budgets", data=form) as resp:
                assert resp.status == 403
        assert await console.rt.budgets.quotas("local") == []
        assert await console.rt.budgets.audit_log("local") == []
        assert "local/ann" not in console.cli("quota", "show").stdout

        async with client.post(f"{console.url}/budgets", data={
                "user": "ann", "daily": "2.50", "monthly": "", "csrf_token": token}) as resp:
            assert resp.status == 200 and resp.url.path == "/budgets"
            page = await resp.text()
        async with client.post(f"{console.url}/budgets", data={
                "user": "", "daily": "", "monthly": "40", "csrf_token": token}) as resp:
            assert resp.status == 200
        async with client.post(f"{console.url}/budgets", data={
                "user": "ann", "daily": "lots", "csrf_token": token}) as resp:
            assert resp.status == 400 and "takes dollars" in await resp.text()
    assert "Saved the budget of ann" in page
    shown = console.cli("quota", "show").stdout
    assert "local/ann: daily $2.50, monthly default" in shown
    assert "local (whole team): daily default, monthly $40.00" in shown
    audit = await console.rt.budgets.audit_log("local")
    assert [(a["user"], a["front_end"], a["old_daily_micros"], a["new_daily_micros"]) for a in audit] == [
        ("", "web", None, None), ("ann", "web", None, 2_500_000)]
    assert all(a["actor"] for a in audit)  # who asked for the sign-in link


async def test_every_front_end_lands_in_one_audit_log(console: Console) -> None:
    assert console.cli("quota", "set", "--team", "local", "--user", "bob", "--daily", "3").returncode == 0
    assert console.cli("quota", "clear", "--team", "local", "--user", "bob").returncode == 0
    async with await console.signed_in() as client:
        async with client.get(f"{console.url}/budgets") as resp:
            page = await resp.text()
    table = page.split('id="audit"', 1)[1]
    assert table.count("<td>cli</td>") == 2
    assert "daily default → $3.00" in table and "daily $3.00 → default" in table


async def test_user_text_is_escaped(console: Console) -> None:
    await console.make_job("<img src=x onerror=alert(1)>", "<script>alert('fox')</script>",
                           name="<b>Mallory</b>")
    async with await console.signed_in() as client:
        for path in ("/", "/jobs"):
            async with client.get(console.url + path) as resp:
                page = await resp.text()
                assert "script-src" not in resp.headers["Content-Security-Policy"]  # none at all
                assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            assert "<script>" not in page and "<b>Mallory" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#x27;fox&#x27;)&lt;/script&gt;" in page


async def test_sign_out_ends_the_session(console: Console) -> None:
    client = await console.signed_in()
    async with client:
        session_id = next(c.value for c in client.cookie_jar if c.key == "sora_admin")
        async with client.get(f"{console.url}/budgets") as resp:
            token = _csrf(await resp.text())
        async with client.post(f"{console.url}/logout", data={}) as resp:
            assert resp.status == 403  # sign-out is a form too
        async with client.post(f"{console.url}/logout", data={"csrf_token": token}) as resp:
            assert resp.status == 200 and "signed out" in await resp.text()
        async with client.get(f"{console.url}/") as resp:
            assert resp.status == 401
    async with console.http.get(f"{console.url}/", cookies={"sora_admin": session_id}) as resp:
        assert resp.status == 401  # the old cookie, replayed, opens nothing


async def test_no_secret_reaches_the_database(console: Console) -> None:
    client = await console.signed_in()
    async with client:
        session_id = next(c.value for c in client.cookie_jar if c.key == "sora_admin")
    key_file = console.rt.settings.db_path.with_name(console.rt.settings.db_path.name + ".admin-key")
    key = key_file.read_text().strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    dump, sessions = "", []
    async with console.rt.store.db.connection() as tx:  # every row of every table, either backend
        for table in ("jobs", "ledger", "quotas", "audit_log", "admin_links_used",
                      "admin_sessions", "alerts_sent"):
            rows = await tx.fetchall(f"SELECT * FROM {table}")
            dump += "\n".join(repr(r) for r in rows)
            sessions += rows if table == "admin_sessions" else []
    assert sessions  # the session is stored, as a hash
    assert session_id not in dump and key not in dump
