"""Import structure: the CLI entry module loads once; heavy packages load only when used."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def _python(code: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=True,
    )
    return proc.stdout.strip()


def test_python_m_bot_cli_loads_the_cli_module_once() -> None:
    code = (
        "import runpy, sys\n"
        "try:\n"
        "    runpy.run_module('bot.cli.main', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('bot.cli.main' in sys.modules, 'bot.cli.tasks' in sys.modules)"
    )
    # as `python -m bot.cli --help`: the groups are imported, bot.cli.main is never imported
    # again
    assert _python(code, "--help").splitlines()[-1] == "False True"


def test_stats_and_planning_import_without_pil_or_a_model_client() -> None:
    code = (
        "import sys, core.reports.stats, core.planning, core.reports.summary\n"
        "print(sorted(m for m in ('PIL', 'openai') if m in sys.modules))"
    )
    assert _python(code) == "[]"


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (the file ``path``) imports anywhere in its
    body, ``TYPE_CHECKING`` and function-level imports included (as import-linter counts)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known}


def _cycles(root: str) -> dict[str, list[set[str]]]:
    """For ``root`` and each package under it: the groups of its direct children (modules or
    subpackages, each with all it holds) that import each other in a circle."""
    modules = {}
    for path in (ROOT / root).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges = {m: _imports(path, m, set(modules)) for m, path in modules.items()}
    found: dict[str, list[set[str]]] = {}
    for package in sorted(m for m, p in modules.items() if p.name == "__init__.py"):
        depth = package.count(".") + 1

        def child(name: str, package: str = package, depth: int = depth) -> str | None:
            inside = name.startswith(f"{package}.")
            return ".".join(name.split(".")[: depth + 1]) if inside else None

        graph: dict[str, set[str]] = {}
        for source, targets in edges.items():
            if (mine := child(source)) is not None:
                graph.setdefault(mine, set()).update(
                    t for t in map(child, targets) if t is not None and t != mine
                )
        circles = [group for group in _strongly_connected(graph) if len(group) > 1]
        if circles:
            found[package] = circles
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (recursive: the graphs are small)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while (top := stack.pop()) != node:
                group.add(top)
            groups.append(group | {node})

    for node in list(graph):
        if node not in index:
            visit(node)
    return groups


def test_bot_packages_import_each_other_without_a_circle() -> None:
    # bot/ reads as layers: main lists the CLI groups, client.py the Discord command modules,
    # and nothing below imports back up (no group imports bot.cli.main; no command module
    # imports client.py, not even for a type)
    assert _cycles("bot") == {}
