"""The `sora-bot` command as a user runs it: real processes, a stand-in in its own process."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.main import main
from adapters.stand_in import sample_mp4
from adapters.terminal import cli

KEY = "sk-cli-SECRET-2b9e"
SORA_BOT = [sys.executable, "-m", "adapters.main"]
ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeApi:
    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.control = f"http://127.0.0.1:{port}/_control"

    def set(self, **changes: object) -> dict:
        request = urllib.request.Request(self.control, data=json.dumps(changes).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            return json.loads(resp.read())


def _start_fake_api(folder: Path, key: str = KEY, job_seconds: float = 0.5,
                    **env: str) -> Iterator[FakeApi]:
    """`sora-bot fake-api` in its own process (`env`: e.g. the catalogue it serves)."""
    port = _free_port()
    proc = subprocess.Popen([*SORA_BOT, "fake-api", "--port", str(port), "--job-seconds",
                             str(job_seconds)],
                            cwd=folder, env=_env(folder, **env), stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        api = FakeApi(port)
        api.set(api_key=key)
        yield api
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[FakeApi]:
    yield from _start_fake_api(tmp_path)


@pytest.fixture(scope="module")
def shared_fake_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeApi]:
    """One stand-in process for tests that only check nothing reaches it."""
    yield from _start_fake_api(tmp_path_factory.mktemp("fake-api"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SORA_", "APIMASTER_", "DISCORD_", "SLACK_"))}
    env.update(PYTHONPATH=str(ROOT), SORA_DB=str(tmp_path / "sora.db"),
               SORA_MEDIA_DIR=str(tmp_path / "videos"), SORA_POLL_FIRST_DELAY="0.1",
               SORA_POLL_INTERVAL="0.1", SORA_RETRY_BASE_DELAY="0.01")
    env.update(extra)
    return env


def sora(tmp_path: Path, *args: str, env: dict[str, str], stdin: str | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SORA_BOT, *args], cwd=tmp_path, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


Here = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Here:
    """`sora-bot ARGS` through `main()` in this process, for what is not about processes (a
    refusal, a setting, a report): the same entry point, environment and folder, without
    starting Python again. Returns what `sora()` returns."""
    def run(cwd: Path, *args: str, env: dict[str, str], **_: object) -> subprocess.CompletedProcess[str]:
        monkeypatch.chdir(cwd)
        for name in [n for n in os.environ if n not in env]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        saved_env = dict(os.environ)  # main() loads .env into the environment: undo it after
        root = logging.getLogger()
        saved_log = (root.handlers[:], root.level)  # and configures logging: keep pytest's
        try:
            code = main(list(args))
        except SystemExit as exc:  # --version, --help: argparse exits
            code = int(exc.code or 0)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            root.handlers[:], root.level = saved_log
        shown = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, shown.out, shown.err)
    return run


def test_generate_writes_the_video_and_prints_its_path_last(tmp_path, fake_api):
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url)
    done = sora(tmp_path, "generate", "a waterfall forming a rainbow", "--duration", "8",
                "--user", "ann", "--out", "clips/rainbow.mp4", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(tmp_path / "clips" / "rainbow.mp4")
    assert (tmp_path / "clips" / "rainbow.mp4").read_bytes() == sample_mp4()
    assert "Queued at the video service" in done.stderr and "Downloading the video" in done.stderr
    assert KEY not in done.stdout + done.stderr
    usage = json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)
    assert usage[0]["user"] == "ann" and usage[0]["team"] == "local"
    assert (usage[0]["spent_usd"], usage[0]["reserved_usd"], usage[0]["jobs"]) == (0.64, 0, 1)
    jobs = json.loads(sora(tmp_path, "jobs", "--json", env=env).stdout)
    assert jobs[0]["status"] == "delivered" and jobs[0]["prompt"] == "a waterfall forming a rainbow"


def test_generate_without_a_key_uses_the_stand_in(tmp_path, here):
    done = here(tmp_path, "generate", "a cat", "--out", "cat.mp4", env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "local APIMaster stand-in" in done.stderr
    assert (tmp_path / "cat.mp4").read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize("args, message", [
    (["--resolution", "1080p"], "error: 1080p needs sora-2-pro"),
    (["--duration", "7"], "error: sora-2 offers 4, 8, 12, 16 or 20 seconds."),
])
def test_invalid_input_exits_non_zero_with_one_line(tmp_path, args, message, here):
    done = here(tmp_path, "generate", "x", *args, env=_env(tmp_path))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(message)


@pytest.mark.parametrize("kind, message", [("401", "APIMASTER_API_KEY"), ("402", "out of credit")])
def test_upstream_failures_exit_non_zero_with_the_reason(tmp_path, fake_api, kind, message):
    fake_api.set(fail=["submit", kind, 1])
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url)
    done = sora(tmp_path, "generate", "x", env=env)
    assert done.returncode == 1
    assert message in done.stderr.strip().splitlines()[-1]
    assert json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)[0]["spent_usd"] == 0


def test_killed_mid_job_then_resume_submits_once_and_delivers_once(tmp_path, fake_api, db_target):
    fake_api.set(job_seconds=3.0)
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url,
               SORA_LEASE_SECONDS="1.5", SORA_DB=db_target)
    proc = subprocess.Popen([*SORA_BOT, "generate", "slow sunrise", "--out", "sunrise.mp4"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while _status(db_target) != "submitted":
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not (tmp_path / "sunrise.mp4").exists()
    early = sora(tmp_path, "resume", env=env)  # the dead owner's claim still holds
    assert "left alone" in early.stderr and _status(db_target) == "submitted"
    time.sleep(1.6)
    done = sora(tmp_path, "resume", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sunrise.mp4").read_bytes() == sample_mp4()
    assert fake_api.set()["tasks"] == 1  # one task ever created upstream
    assert _status(db_target) == "delivered"
    again = sora(tmp_path, "resume", env=env)
    assert "No unfinished" in again.stderr
    usage = json.loads(sora(tmp_path, "usage", "--json", env=env).stdout)
    assert (usage[0]["spent_usd"], usage[0]["jobs"]) == (0.32, 1)
    _no_sqlite_file_unless_asked(tmp_path, db_target)


def test_resume_beside_a_live_owner_leaves_its_job(tmp_path, fake_api, db_target):
    fake_api.set(job_seconds=2.5)
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url,
               SORA_LEASE_SECONDS="1", SORA_DB=db_target)
    owner = subprocess.Popen([*SORA_BOT, "generate", "a live one", "--out", "live.mp4"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_status(db_target, owner, "submitted")
    time.sleep(1.2)  # past one lease: the owner must have renewed it to keep the job
    other = sora(tmp_path, "resume", env=env)
    assert other.returncode == 0 and "left alone" in other.stderr
    assert owner.wait(30) == 0
    assert (tmp_path / "live.mp4").read_bytes() == sample_mp4()
    counts = fake_api.set()
    assert (counts["tasks"], counts["downloads"]) == (1, 1)
    _no_sqlite_file_unless_asked(tmp_path, db_target)


def test_two_resumes_after_a_crash_finish_each_job_once(tmp_path, fake_api, db_target):
    fake_api.set(job_seconds=2.0)
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url,
               SORA_LEASE_SECONDS="1", SORA_USER_DAILY_USD="none", SORA_DB=db_target)
    crashed = [subprocess.Popen([*SORA_BOT, "generate", f"clip {n}", "--out", f"clip{n}.mp4"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for n in range(3)]
    for proc in crashed:
        _wait_for_status(db_target, proc, "submitted", count=3)
    for proc in crashed:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    time.sleep(1.1)  # the dead owners' leases run out
    resumes = [subprocess.Popen([*SORA_BOT, "resume"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in resumes:
        proc.wait(60)
    rows = _query(db_target, "SELECT j.status, l.state FROM jobs j JOIN ledger l ON l.job_id = j.id")
    assert rows == [("delivered", "spent")] * 3
    counts = fake_api.set()
    assert (counts["tasks"], counts["downloads"]) == (3, 3)
    assert all((tmp_path / f"clip{n}.mp4").read_bytes() == sample_mp4() for n in range(3))


def _query(db: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database a process under test writes, whichever backend SORA_DB names."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    with sqlite3.connect(db, timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def _wait_for_status(db: str, proc: subprocess.Popen, status: str, count: int = 1) -> None:
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(Exception):  # not created yet, or locked for a moment
            if _query(db, "SELECT COUNT(*) FROM jobs WHERE status = ?", (status,))[0][0] >= count:
                return
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)


def _status(db: str) -> str | None:
    try:
        rows = _query(db, "SELECT status FROM jobs")
    except Exception:  # not created yet, or locked for a moment
        return None
    return rows[0][0] if rows else None


def _no_sqlite_file_unless_asked(tmp_path: Path, db: str) -> None:
    """With a PostgreSQL SORA_DB nothing writes a SQLite file, here or in data/."""
    if db.startswith("postgresql://"):
        assert not list(tmp_path.rglob("*.db")) and not (tmp_path / "data").exists()


def test_quota_commands(tmp_path, here):
    env = _env(tmp_path)
    assert here(tmp_path, "quota", "set", "--user", "ann", "--daily", "0.50", env=env).returncode == 0
    assert here(tmp_path, "quota", "set", "--team", "local", "--monthly", "20", env=env).returncode == 0
    shown = here(tmp_path, "quota", "show", env=env).stdout
    assert "local/ann: daily $0.50, monthly default" in shown
    assert "local (whole team): daily default, monthly $20.00" in shown
    refused = here(tmp_path, "generate", "x", "--user", "ann", "--duration", "8", env=env)
    assert refused.returncode == 1
    assert "costs $0.64 but your daily budget has $0.50 left of $0.50" in refused.stderr
    assert here(tmp_path, "quota", "clear", "--user", "ann", env=env).returncode == 0
    assert "local/ann" not in here(tmp_path, "quota", "show", env=env).stdout
    bad = here(tmp_path, "quota", "set", "--user", "ann", "--daily", "lots", env=env)
    assert bad.returncode == 2 and "not an amount in dollars" in bad.stderr
    assert here(tmp_path, "quota", "set", "--daily", "1", env=env).returncode == 2


def test_console_makes_a_video_from_a_typed_prompt(tmp_path):
    lines = "a paper boat --duration 4\nusage\na cat --resolution 1080p\njobs\nquit\n"
    done = sora(tmp_path, "run", env=_env(tmp_path), stdin=lines)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "local APIMaster stand-in" in out
    assert "Started job_" in out and "$4.68 left today" in out
    assert "1080p needs sora-2-pro" in out
    assert "Left for you today" in out
    finished = [line for line in out.splitlines() if "done:" in line]
    assert len(finished) == 1 and Path(finished[0].split("done: ")[1]).read_bytes()[4:8] == b"ftyp"


def test_chat_adapters_refuse_to_start_without_a_key(tmp_path, here):
    done = here(tmp_path, "run", env=_env(tmp_path, DISCORD_TOKEN="x.y.z"))
    assert done.returncode == 2
    assert "APIMASTER_API_KEY is not set" in done.stderr and "Discord" in done.stderr
    assert "x.y.z" not in done.stderr


def test_run_stops_cleanly_on_sigterm(tmp_path):
    proc = subprocess.Popen([*SORA_BOT, "run"], cwd=tmp_path, env=_env(tmp_path), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    assert first.startswith("Ledger: ") and str(tmp_path / "sora.db") in first  # said once, absolute
    assert "stand-in" in proc.stdout.readline()  # up and waiting for a prompt
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert "Unfinished jobs resume at the next" in err and "Traceback" not in err


def test_settings_come_from_dot_env_in_the_working_directory(tmp_path, here):
    (tmp_path / ".env").write_text("SORA_USER_DAILY_USD=1.00\n")
    env = _env(tmp_path)
    refused = here(tmp_path, "generate", "x", "--duration", "16", env=env)  # $1.28 > $1.00
    assert refused.returncode == 1 and "left of $1.00" in refused.stderr
    env["SORA_USER_DAILY_USD"] = "2.00"  # the real environment wins
    assert here(tmp_path, "generate", "x", "--duration", "16", env=env).returncode == 0


@pytest.mark.parametrize("setting, value, message", [
    ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of"),
    ("APIMASTER_BASE_URL", "not-a-url", "APIMASTER_BASE_URL must be a URL"),
    ("SORA_PRICES", "sora-2:720p=-0.08", "SORA_PRICES entry"),
    ("SORA_USER_DAILY_USD", "inf", "SORA_USER_DAILY_USD must be a finite number"),
    ("SORA_DB", "{blocker}/sora.db", "SORA_DB: "),
    ("SORA_MEDIA_DIR", "{blocker}/videos", "SORA_MEDIA_DIR: "),
])
def test_each_bad_setting_is_one_line_and_nothing_is_sent(tmp_path, shared_fake_api, setting, value,
                                                         message, here):
    fake_api = shared_fake_api
    seen = fake_api.set()["requests"]
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=fake_api.base_url)
    env[setting] = value.format(blocker=blocker)
    done = here(tmp_path, "generate", "a paid video", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {message}") and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert fake_api.set()["requests"] == seen


def test_run_with_port_in_use_names_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*SORA_BOT, "run"], cwd=tmp_path, env=_env(tmp_path, PORT=str(port)),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr == f"error: PORT {port} is already in use by another program; stop it or choose another PORT.\n"


def test_fake_api_port_in_use_or_out_of_range(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sora(tmp_path, "fake-api", "--port", str(port), env=_env(tmp_path), timeout=30)
    assert done.returncode == 2 and done.stderr.startswith(f"error: --port {port} is already in use")
    done = sora(tmp_path, "fake-api", "--port", "70000", env=_env(tmp_path), timeout=30)
    assert done.returncode == 2 and "argument --port: must be from 1 to 65535" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (["quota", "set", "--user", "ann", "--daily", "inf"], "argument --daily: 'inf' is not a finite amount"),
    (["quota", "set", "--user", "ann", "--monthly", "nan"], "argument --monthly: 'nan' is not a finite amount"),
    (["jobs", "--limit", "0"], "argument --limit: must be 1 or more, not 0"),
    (["jobs", "--limit", "-3"], "argument --limit: must be 1 or more, not -3"),
    (["fake-api", "--job-seconds", "inf"], "argument --job-seconds: must be a finite number"),
])
def test_bad_arguments_are_named(args, message, capsys):
    parser, _ = cli.build_parser()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(args)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    parser, _ = cli.build_parser()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([*args, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_help_shows_descriptions_and_defaults(capsys):
    shown = _help(capsys, "jobs")
    assert "Recent jobs, newest first;" in shown and "(default: 20)" in shown
    generate = _help(capsys, "generate")
    assert "(default: sora-2)" in generate and "(default: local)" in generate
    assert "(default: 8123)" in _help(capsys, "fake-api")
    quota = _help(capsys, "quota", "set")
    assert "(default: unchanged)" in quota and "KEEP" not in quota
    assert "Settings come from the environment and from .env" in _help(capsys)


def test_version(tmp_path, here):
    version = here(tmp_path, "--version", env=_env(tmp_path), timeout=30)
    assert version.returncode == 0 and version.stdout.startswith("sora-bot ")


def test_jobs_from_another_folder_does_not_make_an_empty_ledger(tmp_path, here):
    env = _env(tmp_path)
    del env["SORA_DB"]  # the default, data/... under the current folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = here(elsewhere, "jobs", env=env, timeout=30)
    assert done.returncode == 0
    assert f"No ledger at {elsewhere / 'data' / 'stand-in.db'}" in done.stderr
    assert not (elsewhere / "data").exists()


def test_run_with_no_terminal_serves_healthz_until_sigterm(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([*SORA_BOT, "run"], cwd=tmp_path, env=_env(tmp_path, PORT=str(port)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert json.loads(resp.read()) == {"ok": True}
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                    assert b"sora_jobs_total" in resp.read()  # the dashboard is served too
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "/healthz never answered"
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = proc.communicate(timeout=15)
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err and "sora>" not in out
    said = [line for line in err.splitlines() if "no terminal" in line]
    assert len(said) == 1 and "DISCORD_TOKEN" in said[0] and f"port {port}" in said[0]
    assert f"Ledger: {tmp_path / 'sora.db'}" in err


def test_no_key_job_killed_after_submitting_is_delivered_by_resume(tmp_path):
    # No APIMASTER_API_KEY: the stand-in runs inside each process. A short lease, so the
    # dead process's claim on the job runs out quickly.
    env = _env(tmp_path, SORA_LEASE_SECONDS="1")
    proc = subprocess.Popen([*SORA_BOT, "generate", "a slow tide", "--out", "tide.mp4"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while _status(str(tmp_path / "sora.db")) != "submitted":
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not (tmp_path / "tide.mp4").exists()
    remembered = json.loads((tmp_path / "stand-in-tasks.json").read_text())
    assert len(remembered) == 1
    time.sleep(1.1)
    done = sora(tmp_path, "resume", env=env)
    assert done.returncode == 0, done.stderr
    assert "404" not in done.stderr
    assert (tmp_path / "tide.mp4").read_bytes() == sample_mp4()
    assert _status(str(tmp_path / "sora.db")) == "delivered"
    assert len(json.loads((tmp_path / "stand-in-tasks.json").read_text())) == 1  # not resubmitted


@pytest.mark.parametrize("uncomment", [False, True], ids=["copied", "all-uncommented"])
def test_env_example_as_dot_env_keeps_the_no_key_mode_fast(tmp_path, uncomment):
    example = (ROOT / ".env.example").read_text()
    if uncomment:  # a .env written for the real service: 15 s first poll, data/sora.db
        example = "\n".join(line[2:] if line[2:3].isupper() and "=" in line else line
                            for line in example.splitlines())
    assert ("\nSORA_POLL_FIRST_DELAY=15\n" in example) == uncomment
    (tmp_path / ".env").write_text(example)
    env = {k: v for k, v in _env(tmp_path).items() if not k.startswith("SORA_")}
    started = time.monotonic()
    done = sora(tmp_path, "generate", "a quick test", "--out", "quick.mp4", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 15
    assert (tmp_path / "data" / "stand-in.db").exists() and not (tmp_path / "data" / "sora.db").exists()
    noted = [line for line in done.stderr.splitlines() if line.startswith("Note: ")]
    assert len(noted) == uncomment and (not noted or "SORA_DB" in noted[0])


def test_generate_says_each_retry_while_the_api_is_unreachable(tmp_path):
    env = _env(tmp_path, APIMASTER_API_KEY=KEY, APIMASTER_BASE_URL=f"http://127.0.0.1:{_free_port()}/v1",
               SORA_MAX_RETRIES="3")
    done = sora(tmp_path, "generate", "a cat", env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    retries = [line for line in lines if line.startswith("APIMaster unreachable, retry ")]
    assert [line.split(",")[1].split(" in ")[0] for line in retries] == [" retry 1", " retry 2", " retry 3"]
    assert all(line.endswith(" s") for line in retries)
    assert lines[-1] == "error: The video service could not be reached."


def test_an_unreachable_postgresql_is_one_line_without_its_password(tmp_path):
    url = f"postgresql://bot:pw-never-shown@127.0.0.1:{_free_port()}/sora"
    done = sora(tmp_path, "usage", env=_env(tmp_path, APIMASTER_API_KEY=KEY, SORA_DB=url))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: SORA_DB: Cannot connect to {url.replace('pw-never-shown', '***')}: ")
    assert "refused" in line  # the reason, from libpq
    assert "pw-never-shown" not in done.stdout + done.stderr
    assert not list(tmp_path.rglob("*.db"))
