"""Query functions return typed rows (a frozen dataclass or a NamedTuple per row shape, as
``core.schedules.rows``), not the driver's row, a mapping or a bare tuple: a caller's
``row["colum"]`` typo is found by mypy, not by a user.

The rule reads each public function of a queries module (``core/**/*queries*.py``) by the
type it returns: every name in its return annotation is a scalar (``int``, ``str``,
``datetime``...), a container of typed parts (``list[Task]``, ``dict[str, int]``,
``tuple[int, bool]``, ``X | None``), or a declared row type: a class of the product that is
a dataclass (frozen, as new rows are), a ``NamedTuple`` or an enum, found through the
module's imports. Anything else fails: ``Any``, ``Row``, ``Mapping``, ``object``, a bare
``tuple``, ``dict`` or ``list``, a class that declares no row, a name the rule cannot find.
``STILL_UNTYPED`` would list a function not converted yet; none is left, and an entry that is
typed fails too, so the list stays true. The rule is run once on planted returns and shown
to report each."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

STILL_UNTYPED: tuple[str, ...] = ()  # none left: keep it so

# values, not rows
SCALARS = frozenset(
    {"None", "bool", "int", "float", "str", "bytes", "datetime", "date", "timedelta", "Path"}
)
# containers whose every part must be typed in turn (a bare one is refused)
CONTAINERS = frozenset(
    {
        "list",
        "set",
        "frozenset",
        "tuple",
        "dict",
        "Sequence",
        "Iterable",
        "Iterator",
        "AsyncIterator",
        "Collection",
        "Optional",
    }
)
_ROW_BASES = frozenset({"NamedTuple", "Enum", "StrEnum", "IntEnum"})


def _module_path(root: Path, module: str) -> Path | None:
    base = root / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@cache
def _tree(path: Path) -> ast.Module:
    return parsed(path.read_text(encoding="utf-8"))


def _is_dataclass(decorator: ast.expr) -> bool:
    called = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ast.unparse(called).split(".")[-1] == "dataclass"


def _is_row_class(node: ast.ClassDef) -> bool:
    bases = {ast.unparse(b).split(".")[-1].split("[")[0] for b in node.bases}
    return bool(bases & _ROW_BASES) or any(_is_dataclass(d) for d in node.decorator_list)


def is_row_type(root: Path, module: str, name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` as the module ``module`` sees it is a declared row type: a class of
    its own, or one it imports (through a package's face too)."""
    path = _module_path(root, module)
    if path is None or f"{module}:{name}" in seen:
        return False
    seen |= {f"{module}:{name}"}
    for top in _tree(path).body:
        if isinstance(top, ast.ClassDef) and top.name == name:
            return _is_row_class(top)
    for node in walked(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return is_row_type(root, node.module, alias.name, seen)
    return False


def _parts(annotation: ast.expr) -> list[ast.expr]:
    """The names, subscripts and constants of an annotation, ``X | Y`` split."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _parts(annotation.left) + _parts(annotation.right)
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _parts(ast.parse(annotation.value, mode="eval").body)
    return [annotation]


def untyped_parts(root: Path, module: str, annotation: ast.expr | None) -> list[str]:
    """The parts of a return annotation that are neither scalars, typed containers nor
    declared row types (empty: the return is typed)."""
    if annotation is None:
        return ["(no annotation)"]
    found = []
    for part in _parts(annotation):
        if isinstance(part, ast.Constant) and part.value in (None, Ellipsis):
            continue
        if isinstance(part, ast.Subscript):
            head = ast.unparse(part.value).split(".")[-1]
            args = part.slice.elts if isinstance(part.slice, ast.Tuple) else [part.slice]
            if head not in CONTAINERS and not is_row_type(root, module, head):
                found.append(ast.unparse(part))
            for arg in args:
                found += untyped_parts(root, module, arg)
            continue
        name = ast.unparse(part).split(".")[-1]
        if name in SCALARS or (name not in CONTAINERS and is_row_type(root, module, name)):
            continue
        found.append(ast.unparse(part))
    return found


def untyped_in(root: Path, path: Path) -> dict[str, list[str]]:
    """Each public function of ``path`` whose return is not typed, with the parts that are
    not."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    found = {}
    for node in _tree(path).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name[0] != "_":
            parts = untyped_parts(root, module, node.returns)
            if parts:
                found[node.name] = parts
    return found


def _untyped() -> set[str]:
    found = set()
    for path in sorted(ROOT.glob("core/**/*queries*.py")):
        rel = path.relative_to(ROOT).as_posix()
        found |= {f"{rel}:{name}" for name in untyped_in(ROOT, path)}
    return found


def test_no_query_outside_the_list_returns_an_untyped_row() -> None:
    new = sorted(_untyped() - set(STILL_UNTYPED))
    assert not new, f"return a typed row (a frozen dataclass or NamedTuple): {new}"


def test_every_listed_query_still_returns_an_untyped_row() -> None:
    typed = sorted(set(STILL_UNTYPED) - _untyped())
    assert not typed, f"typed now: take them off STILL_UNTYPED: {typed}"


_PLANTED = """
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from core.store.conn import Row, Pair, Sql


@dataclass(frozen=True)
class Frozen:
    a: int


class Loose:
    a: int


class Named(NamedTuple):
    a: int


class Kind(StrEnum):
    one = "one"


def mappings() -> list[Mapping[str, object]]: ...
def tuples() -> list[tuple]: ...
def bare() -> dict: ...
def anything() -> Any | None: ...
def driver() -> list[Row]: ...
def loose() -> Loose: ...
def objects() -> dict[str, object]: ...
def untyped(): ...
async def awaited() -> list[Any]: ...
def rows() -> list[Frozen]: ...
def named() -> dict[str, Named] | None: ...
def pairs() -> list[tuple[int, str | None]]: ...
def kind() -> Kind: ...
def statements() -> Pair[Sql]: ...
def _private() -> Any: ...
"""


def test_the_rule_reports_each_planted_untyped_return(tmp_path: Path) -> None:
    (tmp_path / "core" / "store").mkdir(parents=True)
    (tmp_path / "core/store/conn.py").write_text((ROOT / "core/store/conn.py").read_text())
    (tmp_path / "core/feat").mkdir()
    planted = tmp_path / "core/feat/queries.py"
    planted.write_text(_PLANTED)
    assert untyped_in(tmp_path, planted) == {
        "mappings": ["Mapping[str, object]", "object"],
        "tuples": ["tuple"],
        "bare": ["dict"],
        "anything": ["Any"],
        "driver": ["Row"],
        "loose": ["Loose"],
        "objects": ["object"],
        "untyped": ["(no annotation)"],
        "awaited": ["Any"],
    }
