"""A feature's SQL lives in one named place (issue 42, item 2): its queries module
(``queries.py``, or ``<part>_queries.py`` beside it), each statement a named operation the
domain code calls. The task lifecycle (``core/tasks/lifecycle.py``, ``creation.py``,
``dependencies.py``) holds no SQL text at all; the other modules that still write SQL in
place are listed with how many statements each has, a list that may only shrink."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ROOT

# A string that starts a statement (after any blank space): the words SQL starts with, in the
# capitals every statement of the project is written in (so prose, "Update the row", is not).
_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b")

# Modules that must hold no SQL text: their statements are in their feature's queries modules.
NO_SQL = (
    "core/tasks/lifecycle.py",
    "core/tasks/creation.py",
    "core/tasks/dependencies.py",
)

# Modules, not queries modules, that still hold SQL text, with how many statements: a number
# may go down (update it), never up, and no module joins the list.
WRITTEN_IN_PLACE = {
    "bot/web/app.py": 1,
    "core/access/tokens.py": 5,
    "core/agents/alerts.py": 8,
    "core/agents/hook_events.py": 1,
    "core/agents/judge.py": 6,
    "core/agents/limit_events.py": 1,
    "core/agents/signals.py": 7,
    "core/ai/usage.py": 5,
    "core/delivery/assignment.py": 9,
    "core/delivery/leases.py": 2,
    "core/delivery/node_claims.py": 7,
    "core/delivery/onboarding.py": 2,
    "core/delivery/prompt.py": 1,
    "core/dialogs/answer_keys.py": 6,
    "core/dialogs/permissions.py": 7,
    "core/github/client.py": 1,
    "core/github/intake.py": 1,
    "core/github/review_out.py": 4,
    "core/github/webhook.py": 3,
    "core/history/events.py": 1,
    "core/inbox/queue.py": 2,
    "core/planning/store.py": 6,
    "core/reports/counts.py": 1,
    "core/reports/dashboard.py": 8,
    "core/reports/export.py": 1,
    "core/reports/stats.py": 2,
    "core/reports/summary.py": 6,
    "core/service/swarm.py": 1,
    "core/store/conn.py": 2,
    "core/store/db_copy.py": 8,
    "core/store/postgres/failover.py": 4,
    "core/store/postgres/store.py": 19,
    "core/store/row_locks.py": 1,
    "core/store/tables.py": 14,
    "core/tasks/campaign_end.py": 3,
    "core/tasks/edit.py": 1,
    "core/tasks/held.py": 7,
    "core/tasks/person.py": 2,
    "core/tasks/undelivered.py": 4,
    "core/watch/text_signal.py": 1,
    "core/workflows/pace.py": 1,
    "core/workspaces/handoff.py": 1,
    "core/workspaces/work.py": 7,
}


def sql_literals(source: str) -> list[int]:
    """The lines of ``source`` where a string (or an f-string, by its first part) starts a
    SQL statement; the parts of an f-string are not strings of their own."""
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        text: str | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            text = str(first.value) if isinstance(first, ast.Constant) else ""
        if text is not None:
            if _STATEMENT.match(text):
                lines.append(getattr(node, "lineno", 0))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return lines


def is_queries_module(relative: Path) -> bool:
    """A feature's named place for its SQL: ``queries.py`` or ``<part>_queries.py``."""
    return relative.name == "queries.py" or relative.name.endswith("_queries.py")


def _found() -> dict[str, list[int]]:
    """Every module of ``bot/``, ``automation/`` and ``core/`` outside a queries module that
    holds SQL text: its lines."""
    found = {}
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            lines = sql_literals(path.read_text("utf-8"))
            if lines and not is_queries_module(relative):
                found[relative.as_posix()] = lines
    return found


def test_the_check_sees_a_statement() -> None:
    source = (
        'def f(conn, t):\n    conn.execute("UPDATE tasks SET a = 1 WHERE id = $1", (t,))\n'
        'X = (\n    "SELECT id "\n    "FROM tasks"\n)\n'
        'Y = f"INSERT INTO tasks ({X}) VALUES ($1)"\n'
        'Z = """\n    WITH t AS (SELECT 1) DELETE FROM tasks"""\n'
        '"""Update the row: select what to insert, with care."""\n'
        'W = f"{X} WHERE id = $1"\n'
    )
    assert sql_literals(source) == [2, 4, 7, 8]


def test_the_lifecycle_holds_no_sql() -> None:
    found = {name: sql_literals((ROOT / name).read_text("utf-8")) for name in NO_SQL}
    assert {name: lines for name, lines in found.items() if lines} == {}, (
        "a statement of the lifecycle belongs in core/tasks/queries.py or graph_queries.py"
    )


def test_sql_written_in_place_only_shrinks() -> None:
    found = {name: len(lines) for name, lines in _found().items()}
    grown = {
        name: (count, WRITTEN_IN_PLACE.get(name, 0))
        for name, count in found.items()
        if count > WRITTEN_IN_PLACE.get(name, 0)
    }
    assert grown == {}, (
        "a module's SQL belongs in its feature's queries module (queries.py or "
        "<part>_queries.py): (statements found, allowed) per module"
    )
    assert all(name not in WRITTEN_IN_PLACE for name in NO_SQL)
