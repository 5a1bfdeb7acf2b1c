"""A package's face that imports its private modules when one of its names is first asked
for, not when the package is: a process that starts one module of the package (the gateway,
the door) does not pay for every module beside it.

The face names what it exports once, as imports under ``if TYPE_CHECKING:`` (what mypy,
ruff, the import contracts and the face tests read), and hands its own file to
:func:`lazy_face`, which reads those imports back::

    if TYPE_CHECKING:
        from pkg import _rules as rules
        from pkg._seam import Seam
    else:
        __getattr__, __dir__ = lazy_face(__name__, __file__)

A name asked for is imported from its module and kept in the package (asked once).
:func:`load_all` imports every lazy face's modules at once (a process about to fork many
short-lived children: each would import them again).
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

_FACES: list[str] = []  # each lazy face made so far, by its package's name


def load_all() -> None:
    """Every name of each lazy face made so far, imported; again until loading them made no
    new face."""
    done: set[str] = set()
    while todo := [name for name in _FACES if name not in done]:
        for package in todo:
            done.add(package)
            for name in vars(sys.modules[package]).get("__all__", ()):
                getattr(sys.modules[package], name)


def lazy_face(package: str, file: str) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The face's module ``__getattr__`` and ``__dir__``: each name its ``TYPE_CHECKING``
    imports give, imported from its module at its first use."""
    where = _type_checking_imports(package, Path(file))

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = where[name]
        found = importlib.import_module(module)
        value = found if attribute is None else getattr(found, attribute)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    _FACES.append(package)
    return __getattr__, __dir__


def _type_checking_imports(package: str, file: Path) -> dict[str, tuple[str, str | None]]:
    """Each name the face's ``if TYPE_CHECKING:`` block imports: its module, and the
    attribute of it (None: the module itself, ``from pkg import _rules as rules``)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and _is_type_checking(n.test)]
    where: dict[str, tuple[str, str | None]] = {}
    for node in (n for block in blocks for n in block.body):
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            raise TypeError(f"{file}: a lazy face imports by absolute from-imports only")
        for alias in node.names:
            name = alias.asname or alias.name
            if node.module == package:  # a private module exported whole
                where[name] = (f"{package}.{alias.name}", None)
            else:
                where[name] = (node.module, alias.name)
    if not where:
        raise TypeError(f"{file}: no imports under 'if TYPE_CHECKING:'")
    return where


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
