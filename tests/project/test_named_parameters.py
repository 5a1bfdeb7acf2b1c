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

# ``$1`` as a placeholder, not a sum of dollars (``$0.50``, ``$1,234``)
_NUMBERED = re.compile(r"\$[1-9]\d*(?![\d.,])")

# Modules whose ``$1`` is not SQL: shell text.
NOT_SQL = (
    "bot/cli/completion_scripts.py",
    "core/workspaces/build.py",
)

# Modules whose statements still number their parameters.
STILL_NUMBERED: tuple[str, ...] = ()


def _numbered_modules() -> set[str]:
    found = set()
    for path in sorted(ROOT.glob("*/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] not in ("core", "bot", "automation") or rel in NOT_SQL:
            continue
        if rel in STORE_PLUMBING:
            continue
        if any(_NUMBERED.search(text) for text in _strings(path)):
            found.add(rel)
    return found


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_statement_outside_the_list_numbers_its_parameters() -> None:
    found = _numbered_modules()
    new = sorted(found - set(STILL_NUMBERED))
    assert not new, f"numbered placeholders ($1): name them (core.store.conn.sql) in {new}"
    done = sorted(set(STILL_NUMBERED) - found)
    assert not done, f"no numbered placeholder left: take them out of STILL_NUMBERED: {done}"
