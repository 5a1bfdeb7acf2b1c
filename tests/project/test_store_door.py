"""One door into the store (issue 52, item 5): ``StoreAccess`` holds its ``Store`` privately
and each operation of it (``read``, ``write``, ``update``, ``write_concurrent``, ``listen``,
``fence``, ``close``, ...) is a method of the access; no module of core outside the store
reaches a ``db`` attribute. PostgreSQL's own modules are imported only by the store (its
``capability`` module answers for them: the scheduler lock) and by the database commands
(``core/database``: copy, the doctor's checks), which are about the dialect itself."""

from __future__ import annotations

import ast

from core.store.access import StoreAccess
from tests.helpers import ROOT
from tests.source_trees import parsed, walked

# Modules outside core/store that may import core.store.postgres: the database commands.
DIALECT_COMMANDS = ("core/database/",)


def db_attributes(source: str) -> list[int]:
    """The lines of ``source`` that read an attribute named ``db`` (``service.db.read``)."""
    return sorted(
        node.lineno
        for node in walked(parsed(source))
        if isinstance(node, ast.Attribute) and node.attr == "db"
    )


def postgres_imports(source: str) -> list[int]:
    """The lines of ``source`` that import a module of ``core.store.postgres``."""
    lines = []
    for node in walked(parsed(source)):
        names: list[str] = []
        if not isinstance(node, ast.stmt):
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        if any(n.startswith("core.store.postgres") for n in names):
            lines.append(node.lineno)
    return lines


def _core_outside_store() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if not relative.startswith("core/store/"):
            found.append((relative, path.read_text("utf-8")))
    return found


def test_the_checks_see_what_they_look_for() -> None:
    source = (
        "async def f(service):\n    await service.db.read(g)\n"
        "    await service.store.read(g)\n"
        "from core.store.postgres.failover import scheduler_lock\n"
        "from core.store import postgres\n"
        "import core.store.postgres.store\n"
        "from core.store import capability\n"
    )
    assert db_attributes(source) == [2]
    assert postgres_imports(source) == [4, 5, 6]


def test_the_store_is_private_to_its_access() -> None:
    assert "db" not in StoreAccess.__dict__
    found = {
        name: lines for name, source in _core_outside_store() if (lines := db_attributes(source))
    }
    assert found == {}, "call the store through StoreAccess's methods (read, update, ...)"


def test_only_the_store_and_the_database_commands_import_postgresql() -> None:
    found = {
        name: lines
        for name, source in _core_outside_store()
        if not name.startswith(DIALECT_COMMANDS) and (lines := postgres_imports(source))
    }
    assert found == {}, "ask core/store/capability.py for what only PostgreSQL does"
