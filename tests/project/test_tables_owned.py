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
import re
from pathlib import Path

from tests.helpers import ROOT

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

# (module, table): why the module still names a table of another package
ALLOWED: dict[tuple[str, str], str] = {
    ("core/store/conn.py", "events"): _OUTBOX,
    ("core/store/postgres/store.py", "events"): _OUTBOX,
    ("core/store/postgres/store.py", "deliveries"): (
        "the store's change notification: the trigger that wakes a delivery node when a "
        "delivery is queued (NOTIFY), installed with the store's other plumbing"
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
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
    return found


def tables_named(source: str) -> set[str]:
    """The four tables named by SQL in the strings of ``source`` (an f-string's parts each
    on its own), docstrings aside."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found |= tables_in(node.value)
    return found


def outside_owner() -> set[tuple[str, str]]:
    """Every (module, table) of ``bot/``, ``automation/`` and ``core/`` whose SQL names one of
    the four tables outside its owner package."""
    found = set()
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            tables = tables_named(path.read_text("utf-8"))
            found |= {(name, t) for t in tables if not name.startswith(OWNER[t])}
    return found


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
    found = outside_owner()
    assert sorted(found - set(ALLOWED)) == [], (
        "ask the owner: call its named function, or compose its named fragment (OWNER)"
    )


def test_every_exception_still_names_its_table() -> None:
    gone = sorted(set(ALLOWED) - outside_owner())
    assert gone == [], "these no longer name the table: take them off ALLOWED"


def test_each_owner_is_a_package() -> None:
    assert all((ROOT / owner / "__init__.py").is_file() for owner in OWNER.values())
    assert all(Path(module).suffix == ".py" for module, _ in ALLOWED)
