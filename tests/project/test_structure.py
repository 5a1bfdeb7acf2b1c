"""Import structure: the CLI entry module loads once; heavy packages load only when used."""

from __future__ import annotations

import ast
import shutil
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


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        check=False,
    )


def test_an_import_against_the_contracts_fails_the_check(tmp_path: Path) -> None:
    # the contracts of pyproject.toml (run by `make test`) on a copy of the tree with two
    # imports that break them: a core package importing one above it, a circle in bot/cli
    for name in ("bot", "automation", "core"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    lifecycle = tmp_path / "core" / "tasks" / "lifecycle.py"
    lifecycle.write_text(lifecycle.read_text() + "\nfrom core.service.swarm import SwarmService\n")
    hook = tmp_path / "bot" / "cli" / "hook.py"  # main imports hook (its fast path)
    hook.write_text(hook.read_text() + "\nfrom bot.cli.main import main\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "core.tasks.lifecycle -> core.service.swarm" in result.stdout
    assert "No cycles are allowed in bot.cli." in result.stdout


# the store's SQLite part: the only modules that may name the sqlite3 driver (every other
# module reads rows through core.store.conn.Row and catches core.errors)
SQLITE_PART = {
    "core/store/conn.py",  # SqliteConn, and sqlite_error: SQLite's errors as the store's
    "core/store/sqlite.py",  # the SQLite store (aiosqlite), its migrations, check_writable
    "core/store/db_copy.py",  # reads a SQLite file to copy it into PostgreSQL
    "core/store/commit_watch.py",  # PRAGMA data_version of the SQLite file, for a waiting hook
    "core/clis/opencode/database.py",  # opencode's own database (its turns' usage), read-only
}


def _imports_sqlite3(path: Path) -> bool:
    import ast

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "sqlite3" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
            return True
    return False


def test_only_the_stores_sqlite_part_imports_sqlite3() -> None:
    found = {
        str(path.relative_to(ROOT))
        for package in ("core", "bot", "automation")
        for path in (ROOT / package).rglob("*.py")
        if _imports_sqlite3(path)
    }
    assert found - SQLITE_PART == set()
    assert found >= SQLITE_PART  # the list names no module that no longer needs it


def test_core_asks_the_store_not_the_database_url() -> None:
    # core below the composition root branches on the store (Store.listens, serves_nodes,
    # listen), never on SWARM_DATABASE_URL: only the settings and open_store read it
    readers = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if "database_url" in path.read_text(encoding="utf-8")
    }
    assert readers == {"core/settings/__init__.py", "core/store/sqlite.py"}


def test_no_command_group_imports_the_entry_point() -> None:
    # bot.cli.main imports the groups by name (import_module), which lint-imports cannot
    # follow: a group importing main back would be a circle it does not see
    found = []
    for path in sorted((ROOT / "bot" / "cli").glob("*.py")):
        if path.name in ("main.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.cli.main":
                found.append(path.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "bot.cli":
                found += [path.name for a in node.names if a.name == "main"]
            elif isinstance(node, ast.Import):
                found += [path.name for a in node.names if a.name == "bot.cli.main"]
    assert found == []


def test_the_front_ends_reach_the_store_through_features_only_with_no_exceptions() -> None:
    # issue 42, item 2: the list of exceptions only shrank, and is empty: bot and automation
    # call the features' operations (core.database, core.coordinator.db_lock,
    # core.agents.hook_intake) and name the store's errors from core.errors
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c.get("forbidden_modules") == ["core.store"]
    ]
    assert contract["source_modules"] == ["bot", "automation"]
    assert contract.get("ignore_imports", []) == []


def test_core_keeps_at_most_twelve_loose_modules() -> None:
    # the foundations; anything new goes into a feature package
    loose = sorted(p.name for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 12, loose
