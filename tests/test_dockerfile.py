"""The Dockerfile, read (no engine here to build it): the properties the operator relies on."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [(line.split()[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_dependencies_are_a_layer_before_the_code():
    steps = _instructions()
    order = [f"{op} {arg}" for op, arg in steps]
    copy_pyproject = order.index("COPY pyproject.toml ./")
    install_deps = next(i for i, s in enumerate(order) if s.startswith("RUN") and "pip install -r" in s)
    first_code = min(i for i, s in enumerate(order) if re.match(r"COPY (bot|adapters|storage) ", s))
    assert copy_pyproject < install_deps < first_code
    assert any(s.startswith("RUN pip install --no-deps .") for s in order[first_code:])


def test_runs_as_a_user_with_a_healthcheck_and_the_headless_run():
    steps = _instructions()
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].strip() not in ("root", "0")
    [health] = [arg for op, arg in steps if op == "HEALTHCHECK"]
    command = json.loads(health[health.index("CMD") + 3:].strip())
    assert "/healthz" in command[-1] and "PORT" in command[-1]
    assert json.loads([arg for op, arg in steps if op == "CMD"][-1]) == ["sora-bot", "run"]
