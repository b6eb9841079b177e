"""The layering the design names, checked on the source: imports point inward
(adapters -> bot -> storage), the core imports no chat SDK, web server or argparse, and no
module imports back into a cycle, whether at module level or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "adapters", "storage")
FORBIDDEN_IN_CORE = ("discord", "slack_bolt", "slack_sdk", "aiohttp.web", "argparse")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path] | None = None) -> set[str]:
    """Every module named by an import that runs (TYPE_CHECKING blocks excluded). `from
    package import module` names the module, not the package."""
    modules = modules if modules is not None else _modules()
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    names: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            subs = {f"{base}.{alias.name}" for alias in node.names}
            names.update(subs & modules.keys())
            if subs - modules.keys():
                names.add(base)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path, name, modules) if m in modules and m != name}
            for name, path in modules.items()}


def test_imports_point_inward_and_the_core_has_no_front_end() -> None:
    for name, path in _modules().items():
        imported = _imports(path, name)
        layer = name.split(".")[0]
        if layer == "storage":
            assert not {m for m in imported if m.split(".")[0] in ("bot", "adapters")}, name
        if layer == "bot":
            assert not {m for m in imported if m.split(".")[0] == "adapters"}, name
        if layer in ("bot", "storage"):
            bad = {m for m in imported for f in FORBIDDEN_IN_CORE if m == f or m.startswith(f + ".")}
            assert not bad, f"{name} imports {bad}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles() -> None:
    cycle = find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_sees_a_cycle_and_a_function_level_import(tmp_path: Path) -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    source = "def f():\n    from bot.engine import JobEngine\n"
    (tmp_path / "m.py").write_text(source)
    assert "bot.engine" in _imports(tmp_path / "m.py", "adapters.m")
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.engine import X\n"
    (tmp_path / "g.py").write_text(guarded)
    assert "bot.engine" not in _imports(tmp_path / "g.py", "adapters.g")
