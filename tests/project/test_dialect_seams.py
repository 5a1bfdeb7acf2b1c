"""Domain code never asks which database it runs on (issue 42, item 2): outside the store,
no module of ``core/`` reads a connection's ``dialect``. Where the databases differ it calls a
seam of the store that owns the choice: a ``Pair`` of statements or operations
(``Pair.on(conn)``), a row lock (``core.store.row_locks``), or a named operation of the
connection (``data_version``, ``add_event``)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

# The modules allowed to read ``.dialect``: the store (its connections, ``Pair``, its row
# locks, its migrations and the PostgreSQL part), nothing else.
SEAMS = (Path("core/store"),)


def _reads_dialect(source: str) -> list[int]:
    """The lines of ``source`` that read an attribute named ``dialect`` (``conn.dialect``,
    ``getattr(conn, "dialect")``)."""
    lines = []
    for node in walked(parsed(source)):
        attribute = isinstance(node, ast.Attribute) and node.attr == "dialect"
        named = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "dialect"
        )
        if attribute or named:
            lines.append(getattr(node, "lineno", 0))
    return lines


def test_the_check_sees_a_dialect_read() -> None:
    assert _reads_dialect('if conn.dialect == "sqlite":\n    pass\n') == [1]
    assert _reads_dialect('x = 1\nd = getattr(conn, "dialect", None)\n') == [2]
    assert _reads_dialect("Pair(sqlite='a', postgres='b').on(conn)\n") == []


def test_no_module_of_core_outside_the_store_reads_the_dialect() -> None:
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if any(relative.is_relative_to(seam) for seam in SEAMS):
            continue
        found += [f"{relative}:{line}" for line in _reads_dialect(path.read_text("utf-8"))]
    assert found == [], "ask a seam of the store (Pair.on, row_locks), not conn.dialect"
