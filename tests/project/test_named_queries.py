"""A feature's SQL lives in one named place (issue 42, item 2): its queries module
(``queries.py``, or ``<part>_queries.py`` beside it), each statement a named operation the
domain code calls. The task lifecycle (``core/assignment/_lifecycle.py``, core/tasks'
``_creation.py``, ``_dependencies.py``, ``_reopening.py``) holds no SQL text at all; the other
modules that still write SQL in place are listed with how many statements each has, a list
that may only shrink. The store's own plumbing (connections, the schema's checks, copy,
failover) is the store's.

Each table has one owner (issue 52, item 1): the feature whose modules hold the statements
on it (``OWNER``); any other feature calls the owner's named functions. The modules whose
statements still name a table of another owner are listed with those tables, a list that
may only shrink (``ACROSS_OWNERS``); the read models (``READ_MODELS``) read any table."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from tests.helpers import ROOT
from tests.source_trees import parsed, walked

# A string that starts a statement (after any blank space): the words SQL starts with, in the
# capitals every statement of the project is written in (so prose, "Update the row", is not),
# and more after it (so an HTTP method, "DELETE", is not).
_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b(?!\s*$)")

# Modules that must hold no SQL text: their statements are in their feature's queries modules.
NO_SQL = (
    "core/assignment/_lifecycle.py",
    "core/tasks/_creation.py",
    "core/tasks/_dependencies.py",
    "core/tasks/_reopening.py",
)

# The store's own statements (not a feature's): its connections and their dialects, the
# database copy, PostgreSQL's failover and schema checks, row locks.
STORE_PLUMBING = (
    "core/store/conn.py",
    "core/store/db_copy.py",
    "core/store/postgres/failover.py",
    "core/store/postgres/store.py",
    "core/store/row_locks.py",
)

# Modules that read another program's own database, not swarm's store (opencode keeps its
# sessions' usage in its SQLite file): their statements name that program's tables.
OTHER_PROGRAMS = ("core/clis/opencode/database.py",)

# Modules, not queries modules, that still hold SQL text, with how many statements: none is
# left (issue 52, item 1), and no module joins the list.
WRITTEN_IN_PLACE: dict[str, int] = {}


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
            text = str(first.value) + "{}" if isinstance(first, ast.Constant) else ""
        if text is not None:
            if _STATEMENT.match(text):
                lines.append(getattr(node, "lineno", 0))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(parsed(source))
    return lines


def is_queries_module(relative: Path) -> bool:
    """A feature's named place for its SQL: ``queries.py`` or ``<part>_queries.py``."""
    return relative.name == "queries.py" or relative.name.endswith("_queries.py")


@functools.cache  # read only: two tests ask
def _found() -> dict[str, list[int]]:
    """Every module of ``bot/``, ``automation/`` and ``core/`` outside a queries module that
    holds SQL text: its lines."""
    found = {}
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            lines = sql_literals(path.read_text("utf-8"))
            name = relative.as_posix()
            if (
                lines
                and not is_queries_module(relative)
                and name not in STORE_PLUMBING + OTHER_PROGRAMS
            ):
                found[name] = lines
    return found


def test_the_check_sees_a_statement() -> None:
    source = (
        'def f(conn, t):\n    conn.execute("UPDATE tasks SET a = 1 WHERE id = $1", (t,))\n'
        'X = (\n    "SELECT id "\n    "FROM tasks"\n)\n'
        'Y = f"INSERT INTO tasks ({X}) VALUES ($1)"\n'
        'Z = """\n    WITH t AS (SELECT 1) DELETE FROM tasks"""\n'
        '"""Update the row: select what to insert, with care."""\n'
        'W = f"{X} WHERE id = $1"\n'
        'V = f"SELECT {X} FROM tasks"\n'
        'U = call("DELETE", url)\n'
    )
    assert sql_literals(source) == [2, 4, 7, 8, 12]


def test_the_lifecycle_holds_no_sql() -> None:
    found = {name: sql_literals((ROOT / name).read_text("utf-8")) for name in NO_SQL}
    assert {name: lines for name, lines in found.items() if lines} == {}, (
        "a statement of the lifecycle belongs in core/tasks/_queries.py or _graph_queries.py"
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


def test_sql_written_in_place_is_counted_as_it_is() -> None:
    found = {name: len(lines) for name, lines in _found().items()}
    assert {n: c for n, c in WRITTEN_IN_PLACE.items() if found.get(n, 0) != c} == {}, (
        "lower the module's count (or take it off the list): its statements moved"
    )


# Each table's owner: the feature (package of core) whose modules hold its statements.
OWNER = {
    "account_breakers": "accounts",
    "agent_prompts": "dialogs",
    "agent_signals": "agents",
    "agent_state": "agents",
    "agent_transcript": "agents",
    "agent_watch": "watch",
    "alerts": "agents",
    "audit": "history",
    "budget_marks": "costs",
    "budgets": "costs",
    "campaigns": "workflows",
    "cli_sessions": "agents",
    # a message and its deliveries (test_tables_owned.py: what is still outside it, why)
    "deliveries": "delivery",
    "event_cursors": "posts",
    "events": "history",
    "github_deliveries": "github",
    "github_issues": "github",
    "held_items": "tasks",
    "messages": "delivery",
    "nodes": "delivery",
    "plans": "planning",
    "posts": "posts",
    "questions": "questions",
    "reported_usage": "costs",
    "reservations": "reservations",
    "review_comments": "reviews",
    "schedules": "schedules",
    "task_branches": "workspaces",
    "task_deps": "tasks",
    # who held each task when: written by the database's triggers on ``tasks``
    "task_holds": "tasks",
    "task_triggers": "tasks",
    "task_work": "workspaces",
    "tasks": "tasks",
    "turn_usage": "costs",
    "usage": "ai",
    "web_tokens": "access",
    "wire_reads": "costs",
}

# Read models: they read every feature's tables to show them (the dashboard, the reports,
# the needs-you list) and write none.
READ_MODELS = ("core/reports/", "core/inbox/")

# Modules whose statements still name tables of another owner, with how many statements (or
# fragments: each string naming the table) name each: a list that may only shrink, each count
# too, so a second statement in a listed module fails. What is left is of two kinds: a read
# that joins another owner's rows to the module's own in one statement (a claim held while
# its agent is mid-turn by its signals; an agent's open questions; a task's prompts,
# questions and alerts in "Needs you"); a feature that cannot call the owner in core's tiers
# (pyproject.toml) because the call would close a circle (core/tasks writing campaigns and
# reading questions, whose features import tasks) or reach a tier above (core/agents
# reading agent_watch, a loop's).
# ``tasks`` has none left: its owner imports no other feature, so every feature asks it (an
# operation, or a fragment of core/tasks/_shared_queries.py composed into its own statement
# where one statement reads both). The store, the tier below every feature, names no
# feature's table: what every feature calls of it is the event outbox's write
# (core/store/tables.py), not a statement.
ACROSS_OWNERS: dict[str, dict[str, int]] = {
    "core/agents/_queries.py": {"agent_watch": 2, "questions": 2},
    # a mid-turn hold reads the agent's signals
    "core/delivery/_message_queries.py": {"agent_signals": 3},
    "core/tasks/_campaign_queries.py": {"posts": 1},
    "core/tasks/_queries.py": {
        "agent_prompts": 1,
        "alerts": 1,
        "campaigns": 2,
        "questions": 1,
        "reservations": 1,
    },
}

_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_][a-z0-9_]*)")


def _strings(source: str) -> list[str]:
    """The strings of ``source``, docstrings aside (an f-string's parts each on its own)."""
    tree = parsed(source)
    docstrings = set()
    for node in walked(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    return [
        node.value
        for node in walked(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def tables_named(source: str) -> set[str]:
    """The tables of ``OWNER`` that the strings of ``source`` (docstrings aside) name after
    ``FROM``, ``JOIN``, ``INTO`` or ``UPDATE``."""
    return {t for text in _strings(source) for t in _TABLE.findall(text) if t in OWNER}


def foreign_statements(source: str, name: str) -> dict[str, int]:
    """How many strings of module ``name`` (``source``) name each table another feature
    owns: a statement, or a fragment composed into one."""
    found: dict[str, int] = {}
    for text in _strings(source):
        for table in {t for t in _TABLE.findall(text) if t in OWNER}:
            if OWNER[table] != feature_of(name):
                found[table] = found.get(table, 0) + 1
    return found


def feature_of(name: str) -> str:
    """The feature (package of core) of module ``name``; the path itself outside core."""
    parts = name.split("/")
    return parts[1] if parts[0] == "core" and len(parts) > 2 else name


@functools.cache  # read only: two tests ask
def across_owners() -> dict[str, dict[str, int]]:
    """Every module (read models and store plumbing aside) whose statements name a table
    another feature owns: how many name each."""
    found = {}
    for top in ("bot", "automation", "core"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in STORE_PLUMBING + OTHER_PROGRAMS or name.startswith(READ_MODELS):
                continue
            foreign = foreign_statements(path.read_text("utf-8"), name)
            if foreign:
                found[name] = dict(sorted(foreign.items()))
    return found


def grown(
    found: dict[str, dict[str, int]], allowed: dict[str, dict[str, int]]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per module, each table named by more statements than allowed: (found, allowed)."""
    out = {}
    for name, tables in found.items():
        more = {
            t: (n, allowed.get(name, {}).get(t, 0))
            for t, n in tables.items()
            if n > allowed.get(name, {}).get(t, 0)
        }
        if more:
            out[name] = more
    return out


def test_the_owner_check_sees_a_table() -> None:
    source = (
        '"""Reads FROM tasks in prose."""\n'
        'A = "SELECT s.id FROM agent_state s JOIN tasks t ON t.assignee = s.id"\n'
        'B = f"UPDATE deliveries SET state = {X}"\n'
        'C = "INSERT INTO events (ts) VALUES ($1)"\n'
        'D = "DELETE FROM nowhere"\n'
    )
    assert tables_named(source) == {"agent_state", "tasks", "deliveries", "events"}
    assert feature_of("core/delivery/_queries.py") == "delivery"
    assert foreign_statements(source, "core/delivery/_x.py") == {
        "agent_state": 1,
        "tasks": 1,
        "events": 1,
    }


def test_a_second_statement_in_a_listed_module_is_counted() -> None:
    # the planted violation: one more statement on agent_signals in a module listed for three
    name = "core/delivery/_message_queries.py"
    assert ACROSS_OWNERS[name] == {"agent_signals": 3}
    source = (ROOT / name).read_text("utf-8")
    planted = source + '\nAGAIN = "SELECT state FROM agent_signals WHERE agent = :agent"\n'
    found = {name: foreign_statements(planted, name)}
    assert grown(found, ACROSS_OWNERS) == {name: {"agent_signals": (4, 3)}}
    assert grown({"core/new.py": {"tasks": 1}}, ACROSS_OWNERS) == {"core/new.py": {"tasks": (1, 0)}}


def test_a_statement_on_tasks_outside_its_owner_is_counted() -> None:
    # the planted violation: the claim's module (its statement renews a task's lease through
    # core.tasks' fragment) naming tasks itself, which no module outside core/tasks may
    name = "core/delivery/_claim_queries.py"
    assert name not in ACROSS_OWNERS
    source = (ROOT / name).read_text("utf-8")
    assert foreign_statements(source, name) == {}
    planted = source + '\nAGAIN = "UPDATE tasks SET lease_expires_at = :until WHERE id = :id"\n'
    found = {name: foreign_statements(planted, name)}
    assert grown(found, ACROSS_OWNERS) == {name: {"tasks": (1, 0)}}
    assert not any("tasks" in tables for tables in ACROSS_OWNERS.values())


def test_the_orchestration_of_tasks_names_no_table() -> None:
    # core/assignment composes its owners' fragments: a table named there would be counted
    assert not any(name.startswith("core/assignment/") for name in across_owners())
    planted = 'X = "SELECT count(*) FROM tasks t JOIN agent_state s ON s.id = t.assignee"\n'
    assert foreign_statements(planted, "core/assignment/_queries.py") == {
        "tasks": 1,
        "agent_state": 1,
    }


def test_every_table_has_an_owner() -> None:
    schema = sorted((ROOT / "core/store/schema").glob("*.sqlite.sql"))
    created: set[str] = set()
    for path in schema:  # in order: a table rebuilt under a new name is renamed to the old
        text = path.read_text("utf-8")
        created.update(re.findall(r"CREATE TABLE (\w+)", text))
        created -= set(re.findall(r"ALTER TABLE (\w+) RENAME TO", text))
        created -= set(re.findall(r"DROP TABLE (?:IF EXISTS )?(\w+)", text))
        created.update(re.findall(r"ALTER TABLE \w+ RENAME TO (\w+)", text))
    assert created == set(OWNER)
    assert all((ROOT / "core" / owner).is_dir() for owner in OWNER.values())


def test_a_table_is_written_and_read_by_its_owner_only_shrinks() -> None:
    found = across_owners()
    assert grown(found, ACROSS_OWNERS) == {}, (
        "call the owner's named functions (OWNER) for these tables: (statements, allowed)"
    )
    gone = {n: t for n, t in ACROSS_OWNERS.items() if found.get(n) != t}
    assert gone == {}, "these now name fewer tables of other owners: lower ACROSS_OWNERS"
