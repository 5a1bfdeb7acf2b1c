"""Query functions return typed rows (a frozen dataclass or a NamedTuple per row shape, as
``core.schedules.rows``), not the driver's row or ``Any``: a caller's ``row["colum"]`` typo
is found by mypy, not by a user. ``STILL_UNTYPED`` would list a function not converted yet;
none is left, and an entry that is typed fails too, so the list stays true."""

from __future__ import annotations

import ast
import re

from tests.helpers import ROOT

_UNTYPED = re.compile(r"\b(Row|Any)\b")  # the driver's row type, not a typed ``TaskRow``

STILL_UNTYPED: tuple[str, ...] = ()  # none left: keep it so


def _untyped() -> set[str]:
    found = set()
    for path in sorted(ROOT.glob("core/**/*queries*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if _untyped_return(node.returns):
                found.add(f"{rel}:{node.name}")
    return found


def _untyped_return(returns: ast.expr | None) -> bool:
    """A driver's row or ``Any``, alone or inside (``list[Any]``, ``dict[str, Any]``: a
    row in all but name)."""
    text = ast.unparse(returns) if returns is not None else ""
    return bool(_UNTYPED.search(text))


def test_no_query_outside_the_list_returns_an_untyped_row() -> None:
    new = sorted(_untyped() - set(STILL_UNTYPED))
    assert not new, f"return a typed row (a frozen dataclass or NamedTuple): {new}"


def test_every_listed_query_still_returns_an_untyped_row() -> None:
    typed = sorted(set(STILL_UNTYPED) - _untyped())
    assert not typed, f"typed now: take them off STILL_UNTYPED: {typed}"
