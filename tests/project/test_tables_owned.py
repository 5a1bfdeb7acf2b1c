"""Four tables are each queried from one package: deliveries and messages from
``core/delivery``, ``agent_state`` from ``core/agents``, ``events`` from ``core/history``.
Every other package asks the owner: it calls the owner's named function, or, where one
atomic statement needs the owner's table, composes the owner's named fragment (the table's
name then appears in the owner's files only). Every string of every product module
(docstrings aside) is read for SQL naming one of the four: after ``FROM``, ``JOIN``,
``INTO``, ``UPDATE``, ``TABLE`` or ``ON``, in a ``FROM`` list joined by commas, or quoted as
a ``table_name``. The read models ask the owners too. What is left outside its owner is
``ALLOWED``, each with its reason: a list that may only shrink."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

OWNER = {
    "deliveries": "core/delivery/",
    "messages": "core/delivery/",
    "agent_state": "core/agents/",
    "events": "core/history/",
}

_OUTBOX = (
    "the event outbox: every feature writes its events through the store's batched insert "
    "(core.store.tables.insert_event) in the transaction of its change, and the store, the "
    "tier below every feature, cannot ask core.history (PostgreSQL also keeps the outbox's "
    "txid horizon on the table)"
)

# (module, table): how many strings of the module name a table of another package, and why
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("core/store/conn.py", "events"): (2, _OUTBOX),
    ("core/store/postgres/store.py", "events"): (6, _OUTBOX),
    ("core/store/postgres/store.py", "deliveries"): (
        1,
        "the store's change notification: the trigger that wakes a delivery node when a "
        "delivery is queued (NOTIFY), installed with the store's other plumbing",
    ),
}

_CLAUSE_END = (
    r"(?=\b(?:WHERE|JOIN|LEFT|RIGHT|INNER|CROSS|FULL|ORDER|GROUP|HAVING|LIMIT|ON|USING|"
    r"RETURNING|FOR|UNION|SET|VALUES|WINDOW)\b|[();]|$)"
)
_AFTER_WORD = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|ON|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?)\s+(?:ONLY\s+)?(\w+)"
)
_FROM_LIST = re.compile(r"\bFROM\s+([\w\s,.]+?)" + _CLAUSE_END)
_QUOTED = re.compile(r"\btable_name\s*=\s*'(\w+)'")


def tables_in(text: str) -> set[str]:
    """The four tables that SQL in ``text`` names."""
    named = set(_AFTER_WORD.findall(text)) | set(_QUOTED.findall(text))
    for listed in _FROM_LIST.findall(text):
        named.update(item.split()[0] for item in listed.split(",") if item.split())
    return named & set(OWNER)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in walked(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
    return found


def table_counts(source: str) -> dict[str, int]:
    """How many strings of ``source`` (an f-string's parts each on its own), docstrings
    aside, name each of the four tables in SQL."""
    return dict(_table_counts(source))


@functools.cache  # read only: two tests scan the product
def _table_counts(source: str) -> dict[str, int]:
    tree = parsed(source)
    skip = _docstrings(tree)
    found: dict[str, int] = {}
    for node in walked(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for table in tables_in(node.value):
                found[table] = found.get(table, 0) + 1
    return found


def tables_named(source: str) -> set[str]:
    """The four tables named by SQL in the strings of ``source``, docstrings aside."""
    return set(table_counts(source))


def outside_owner(root: Path = ROOT) -> dict[tuple[str, str], int]:
    """Every (module, table) of ``bot/``, ``automation/`` and ``core/`` whose SQL names one of
    the four tables outside its owner package: how many strings name it."""
    found = {}
    for top in ("bot", "automation", "core"):
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            for table, count in table_counts(path.read_text("utf-8")).items():
                if not name.startswith(OWNER[table]):
                    found[(name, table)] = count
    return found


def beyond_allowed(found: dict[tuple[str, str], int]) -> list[str]:
    """Each (module, table) named by more strings than ``ALLOWED`` lets it."""
    return sorted(
        f"{module} names {table} {count} times ({allowed} allowed)"
        for (module, table), count in found.items()
        if count > (allowed := ALLOWED.get((module, table), (0, ""))[0])
    )


def test_the_check_sees_each_way_a_table_is_named() -> None:
    source = (
        '"""Reads FROM deliveries in prose."""\n'
        'A = "SELECT s.id FROM agent_state s JOIN deliveries d ON d.agent_id = s.id"\n'
        'B = f"UPDATE messages SET text = {X}"\n'
        'C = "INSERT INTO events (ts) VALUES ($1)"\n'
        'D = "SELECT 1 FROM tasks t, picked p , deliveries AS d WHERE d.id = p.id"\n'
        "E = \"SELECT 1 FROM information_schema.columns WHERE table_name = 'events'\"\n"
        'F = "no deliveries queued, 3 messages sent, events from here"\n'
    )
    assert tables_named(source) == {"agent_state", "deliveries", "messages", "events"}
    assert tables_in("SELECT 1 FROM picked p, messages m WHERE m.id = p.id") == {"messages"}
    assert tables_in("AFTER INSERT OR UPDATE OF state ON deliveries FOR EACH ROW") == {"deliveries"}
    assert tables_in("no deliveries queued, 3 messages sent, events from here") == set()


def test_each_table_is_queried_from_its_owner_only() -> None:
    assert beyond_allowed(outside_owner()) == [], (
        "ask the owner: call its named function, or compose its named fragment (OWNER)"
    )


def test_a_second_statement_in_an_allowed_module_fails(tmp_path: Path) -> None:
    # the planted violation: one more statement on deliveries beside the allowed trigger
    module = "core/store/postgres/store.py"
    (tmp_path / module).parent.mkdir(parents=True)
    planted = (ROOT / module).read_text("utf-8") + 'AGAIN = "DELETE FROM deliveries"\n'
    (tmp_path / module).write_text(planted)
    assert beyond_allowed(outside_owner(tmp_path)) == [
        f"{module} names deliveries 2 times (1 allowed)"
    ]


def test_every_exception_still_names_its_table() -> None:
    found = outside_owner()
    stale = sorted(key for key, (count, _) in ALLOWED.items() if found.get(key) != count)
    assert stale == [], "these name the table fewer times now: lower or take them off ALLOWED"


def test_each_owner_is_a_package() -> None:
    assert all((ROOT / owner / "__init__.py").is_file() for owner in OWNER.values())
    assert all(Path(module).suffix == ".py" for module, _ in ALLOWED)
