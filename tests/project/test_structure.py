"""Import structure: the CLI entry module loads once; heavy packages load only when used."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.helpers import ROOT
from tests.source_trees import parsed, walked


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


def _lint_imports(tree: Path, code: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The contracts of ``tree``'s pyproject.toml checked on the packages in ``code``
    (default: ``tree``'s own)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code or tree)},
        check=False,
    )


def _tree_copy(tmp_path: Path) -> Path:
    for name in ("bot", "automation", "core"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_an_import_against_the_contracts_fails_the_check(tmp_path: Path) -> None:
    # the contracts of pyproject.toml (run by `make test`) on a copy of the tree with imports
    # that break them: a feature importing a tier above it (the service), an arrow between
    # two features that is not listed (the tasks' owner asking another feature), a package
    # of core given no tier, a circle in bot/cli
    tree = _tree_copy(tmp_path)
    _append(tree / "core/assignment/_lifecycle.py", "from core.service.swarm import SwarmService")
    _append(tree / "core/access/_tokens.py", "from core.ai import AIClient")
    _append(tree / "core/tasks/_queries.py", "from core.delivery import messages")
    (tree / "core/newpart").mkdir()
    (tree / "core/newpart/__init__.py").write_text('"""A package with no tier."""\n')
    # a package new to core reaching a named CLI (the contract's sources are core.*)
    _append(tree / "core/newpart/__init__.py", "from core.clis.codex import CLI")
    # main imports hook (its fast path); and swarm hook reaching into the hook socket
    _append(tree / "bot/cli/hook.py", "from bot.cli.main import main")
    _append(tree / "bot/cli/hook.py", "from bot.hook_server import HookServer")
    # a route's launcher built on another route's; the start's seam reaching up into a route
    _append(tree / "automation/tmux/headless.py", "from automation.desktop.session import plan")
    _append(tree / "automation/launch/_up.py", "from automation.protocol.session import stop_hosts")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "core.assignment._lifecycle -> core.service.swarm" in result.stdout
    assert "core.access._tokens -> core.ai" in result.stdout
    assert "core.tasks._queries -> core.delivery" in result.stdout
    assert "- core.newpart" in result.stdout
    assert "No cycles are allowed in bot.cli." in result.stdout
    assert "bot.cli.hook is not allowed to import bot.hook_server" in result.stdout
    assert "core.newpart is not allowed to import core.clis.codex" in result.stdout
    assert "automation.tmux is not allowed to import automation.desktop" in result.stdout
    assert "automation.launch._up -> automation.protocol.session" in result.stdout


def test_an_arrow_listed_between_features_that_is_gone_fails_the_check(tmp_path: Path) -> None:
    # the allowed arrows between features are the ones there are: an entry that matches no
    # import is refused, so the list shrinks when an arrow goes
    listed = '    "core.workspaces.** -> core.reservations",\n'
    config = (ROOT / "pyproject.toml").read_text()
    assert listed in config
    (tmp_path / "pyproject.toml").write_text(
        config.replace(listed, listed + '    "core.access.** -> core.ai.**",\n')
    )
    result = _lint_imports(tmp_path, code=ROOT)  # the code as it is: no copy of it
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No matches for ignored import core.access.** -> core.ai.**." in result.stdout


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

    for node in walked(parsed(path.read_text(encoding="utf-8"))):
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
        for node in walked(parsed(path.read_text("utf-8"))):
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
    # core.agents._hook_intake) and name the store's errors from core.errors
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


def _core_contract(kind: str) -> dict[str, Any]:
    """The import contract of type ``kind`` over core's packages (one of each)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["type"] == kind
        and (c.get("containers") == ["core"] or "core.tasks" in c.get("modules", ()))
    ]
    return dict(contract)


def test_the_docs_table_of_tiers_is_the_contracts() -> None:
    # docs/architecture.md names each tier and its packages as the layers contract does,
    # highest first (the contract's name holds the tiers' names)
    contract = _core_contract("layers")
    named = re.search(r"\((.*)\)", contract["name"])
    assert named
    layers = [sorted(re.split(r"\s*[:|]\s*", layer.strip())) for layer in contract["layers"]]
    docs = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    rows = re.findall(r"^\| ([a-z ]+) \| (`[^|]+`) \|", docs, re.MULTILINE)
    assert [name for name, _ in rows] == named.group(1).split(", ")
    assert [sorted(re.findall(r"`([a-z_]+)`", packages)) for _, packages in rows] == layers


def test_the_features_arrows_are_counted_in_the_contracts_name() -> None:
    # the list also ignores the tiers' upward exceptions (the chains through them)
    contract = _core_contract("independence")
    exceptions = set(_core_contract("layers")["ignore_imports"])
    (count,) = re.findall(r"\d+", contract["name"])
    assert exceptions <= set(contract["ignore_imports"])
    assert int(count) == len(set(contract["ignore_imports"]) - exceptions)


def test_the_architecture_map_is_a_first_days_read() -> None:
    # docs/architecture.md is the map (tiers, routes, features, paths through the code), at
    # most 300 lines; history lives in git and docs/decisions/
    lines = (ROOT / "docs" / "architecture.md").read_text("utf-8").splitlines()
    assert len(lines) <= 300, f"docs/architecture.md is {len(lines)} lines: at most 300"


def _named_cli_contract(config_text: str) -> dict[str, Any]:
    (contract,) = [
        c
        for c in tomllib.loads(config_text)["tool"]["importlinter"]["contracts"]
        if c["name"] == "core outside core.clis imports no named CLI"
    ]
    return dict(contract)


def named_cli_gaps(root: Path, contract: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The folders of ``core/clis`` the contract forbids not, and what it forbids that is
    no folder there."""
    folders = {
        f"core.clis.{path.parent.name}" for path in (root / "core/clis").glob("*/__init__.py")
    }
    listed = set(contract["forbidden_modules"])
    return sorted(folders - listed), sorted(listed - folders)


def test_the_named_cli_contract_is_every_cli_folder() -> None:
    # import-linter's lists are static: each folder of core/clis must be forbidden by name,
    # and every child of core is a source (core.*), so a new folder or package is seen
    contract = _named_cli_contract((ROOT / "pyproject.toml").read_text("utf-8"))
    assert contract["source_modules"] == ["core.*"]
    assert named_cli_gaps(ROOT, contract) == ([], [])


def test_a_cli_folder_missing_from_the_contract_is_found(tmp_path: Path) -> None:
    contract = _named_cli_contract((ROOT / "pyproject.toml").read_text("utf-8"))
    shutil.copytree(
        ROOT / "core/clis", tmp_path / "core/clis", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "core/clis/eighth").mkdir()
    (tmp_path / "core/clis/eighth/__init__.py").write_text("")
    shutil.rmtree(tmp_path / "core/clis/aider")
    assert named_cli_gaps(tmp_path, contract) == (["core.clis.eighth"], ["core.clis.aider"])
