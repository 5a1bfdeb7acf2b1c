"""Statements name their parameters (``:task_id``, ``core.store.conn.sql``), not number them:
a ``$1`` in a feature's SQL text is found by reading every string of the product. The store's
own plumbing runs its few statements on the driver as written (``STORE_PLUMBING``); the
modules not converted yet are listed (``STILL_NUMBERED``), a list that may only shrink, and an
entry whose module has no numbered placeholder left fails too, so the list stays true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ROOT
from tests.project.test_named_queries import STORE_PLUMBING
from tests.source_trees import parsed, walked

# ``$1`` as a placeholder, not a sum of dollars (``$0.50``, ``$1,234``)
_NUMBERED = re.compile(r"\$[1-9]\d*(?![\d.,])")

# Modules whose ``$1`` is not SQL: shell text.
NOT_SQL = (
    "bot/cli/completion_scripts.py",
    "core/workspaces/_build.py",
)

# Modules whose statements still number their parameters.
STILL_NUMBERED: tuple[str, ...] = ()


def _product_files() -> list[Path]:
    """The modules of ``core/``, ``bot/`` and ``automation/`` (not a glob of the whole
    checkout, which walks the .venv's ten thousand files)."""
    return [p for top in ("core", "bot", "automation") for p in sorted((ROOT / top).rglob("*.py"))]


def _numbered_modules() -> set[str]:
    found = set()
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in NOT_SQL:
            continue
        if rel in STORE_PLUMBING:
            continue
        if any(_NUMBERED.search(text) for text in _strings(path)):
            found.add(rel)
    return found


def _strings(path: Path) -> list[str]:
    tree = parsed(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in walked(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_statement_outside_the_list_numbers_its_parameters() -> None:
    found = _numbered_modules()
    new = sorted(found - set(STILL_NUMBERED))
    assert not new, f"numbered placeholders ($1): name them (core.store.conn.sql) in {new}"
    done = sorted(set(STILL_NUMBERED) - found)
    assert not done, f"no numbered placeholder left: take them out of STILL_NUMBERED: {done}"


# Modules whose statements are built per call (an f-string run as SQL), and why: statements
# that cannot take a parameter; a list that may only shrink.
BUILT_PER_CALL = {
    # statements that take no parameters: a PRAGMA's value, a LISTEN's channel
    "core/store/postgres/listen.py": "LISTEN takes no parameter: the channel is a name",
    "core/store/sqlite.py": "a PRAGMA takes no parameter: its value is written in",
}


def _built_per_call(path: Path) -> bool:
    """A statement built when it runs: ``Args`` used, or ``execute`` given an f-string, a
    concatenation or a ``.format``."""
    tree = parsed(path.read_text(encoding="utf-8"))
    for node in walked(tree):
        if isinstance(node, ast.Name) and node.id == "Args":
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "executemany")
            and node.args
            and _composed(node.args[0])
        ):
            return True
    return False


def _composed(arg: ast.expr) -> bool:
    """An argument that is SQL text put together where it is run."""
    if isinstance(arg, ast.JoinedStr | ast.BinOp):
        return True
    return (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Attribute)
        and arg.func.attr == "format"
    )


def test_statements_are_module_constants_not_built_per_call() -> None:
    found = set()
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in STORE_PLUMBING:
            continue
        if _built_per_call(path):
            found.add(rel)
    new = sorted(found - set(BUILT_PER_CALL))
    assert not new, f"a statement built per call: make it a named constant (sql) in {new}"
    done = sorted(set(BUILT_PER_CALL) - found)
    assert not done, f"nothing built per call left: take them out of BUILT_PER_CALL: {done}"
