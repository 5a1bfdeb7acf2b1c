"""core.event_kinds: every kind has one display entry, shown or hidden with a reason, and no
kind is written as a bare string outside its table (the source is scanned)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from core.event_kinds import SHOWN, UNKNOWN, EventKind, Shown, Thread, event_text, shown
from core.models import Event
from tests.source_trees import parsed

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "core" / "event_kinds.py"
VALUES = {kind.value for kind in EventKind}
QUOTED = re.compile(r"""['"]([a-z]+\.[a-z_]+)['"]""")  # a kind quoted inside SQL text


def test_every_kind_has_one_entry_shown_or_hidden_with_a_reason() -> None:
    assert set(SHOWN) == set(EventKind)
    for kind, entry in SHOWN.items():
        assert entry.posted != bool(entry.hidden), kind  # shown, or hidden and why: not both


def test_the_entries_agree_with_themselves() -> None:
    for kind, entry in SHOWN.items():
        assert not (entry.card or entry.thread) or entry.task, kind  # a card is a task's
        assert entry.thread is not Thread.QUIET or entry.quiet, kind
        assert not (entry.task and entry.line), kind  # a task's event is no channel line
        assert len(kind.value.split(".")) == 2, kind


def test_a_kind_another_version_wrote_is_hidden_and_its_line_plain() -> None:
    assert shown("task.dreamt") is UNKNOWN and UNKNOWN.hidden
    assert event_text(Event(1, 0.0, "task.dreamt", "T-1 dreamt")) == "• T-1 dreamt"
    assert shown("task.done") == Shown(icon="✅", task=True, card=True, thread=Thread.NOTE)


def _sources() -> Iterator[tuple[Path, ast.AST]]:
    for top in ("core", "bot", "automation"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path != TABLE:
                yield path, parsed(path.read_text(encoding="utf-8"))


def _bare_kinds(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String literals that are a kind, or that quote one (SQL), and the kind argument of
    ``insert_event`` written as text (a literal or an f-string)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in VALUES:
                yield node.lineno, node.value
            for quoted in QUOTED.findall(node.value):
                if quoted in VALUES:
                    yield node.lineno, quoted
        elif isinstance(node, ast.Call) and _name(node.func) == "insert_event":
            kind = node.args[2] if len(node.args) > 2 else None
            if isinstance(kind, ast.Constant | ast.JoinedStr):
                yield node.lineno, ast.unparse(kind)


def _name(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def test_no_kind_is_written_as_a_bare_string_outside_its_table() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path, tree in _sources()
        for line, text in _bare_kinds(tree)
    ]
    assert found == []


def test_the_scan_finds_a_bare_kind() -> None:
    tree = parsed(
        "insert_event(conn, now, 'task.done', text)\n"
        "insert_event(conn, now, f'agent.{word}', text)\n"
        "SQL = \"SELECT 1 FROM events WHERE kind = 'agent.nudged'\"\n"
        "insert_event(conn, now, EventKind.TASK_DONE, text)\n"
    )
    assert sorted(line for line, _ in _bare_kinds(tree)) == [1, 1, 2, 3]


def test_every_kind_is_named_where_it_is_written() -> None:
    """No entry outlives the code that writes it (each is named as ``EventKind.X``)."""
    text = "\n".join(path.read_text(encoding="utf-8") for path, _ in _sources())
    assert [kind for kind in EventKind if f"EventKind.{kind.name}" not in text] == []
