"""The statements of permission prompts (``core.dialogs.permissions``, ``answer_keys``;
table ``agent_prompts``): a prompt read, listed, opened, decided once, closed once, seen on
its pane; its answer's key typed once. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.store.conn import Conn, in_list, listed, sql, sql_pair, values

COLUMNS = (
    "id, agent, task_id, source, kind, text, options, session, opened_at, "
    "decided_at, decision, decided_by, closed_at, closed_why, "
    "hook_host, hook_pid, hook_start, hook_pidns, expires_at, pane_seen_at"
)
_OPEN = "decided_at IS NULL AND closed_at IS NULL"  # the open prompts' index has this WHERE
# a new prompt's values, in the order ``insert`` takes them
INSERT_COLUMNS = (
    "agent", "task_id", "source", "kind", "text", "options", "session", "opened_at",
    "hook_host", "hook_pid", "hook_start", "hook_pidns", "expires_at",
)  # fmt: skip
# ``untyped_rows``: decided, key not typed yet, from ``:sources``, of none of ``:other_than``
_UNTYPED = (
    f"SELECT {COLUMNS} FROM agent_prompts WHERE decided_at IS NOT NULL AND typed_at IS NULL "
    "AND source {sources} AND agent {other_than}"
)
_UNTYPED_LISTS = {"sources": in_list("sources"), "other_than": in_list("other_than", negated=True)}
UNTYPED = sql_pair(f"{_UNTYPED} ORDER BY decided_at, id", **_UNTYPED_LISTS)
UNTYPED_OF_AGENTS = sql_pair(
    f"{_UNTYPED} AND agent {{agents}} ORDER BY decided_at, id",
    agents=in_list("agents"),
    **_UNTYPED_LISTS,
)
BY_ID = sql(f"SELECT {COLUMNS} FROM agent_prompts WHERE id = :id")
OPEN_ROWS = sql(f"SELECT {COLUMNS} FROM agent_prompts WHERE {_OPEN} ORDER BY opened_at, id")
OPEN_ROWS_OF_AGENT = sql(
    f"SELECT {COLUMNS} FROM agent_prompts WHERE {_OPEN} AND agent = :agent ORDER BY opened_at, id"
)
INSERT = sql(
    f"INSERT INTO agent_prompts ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in INSERT_COLUMNS)}) RETURNING id"
)
OPENED_SINCE = sql(
    "SELECT count(*) AS n FROM (SELECT 1 FROM agent_prompts WHERE agent = :agent AND "
    "source = :source AND opened_at >= :since LIMIT :most) AS recent"
)
DECIDE = sql(
    "UPDATE agent_prompts SET decided_at = :now, decision = :key, decided_by = :by "
    "WHERE id = :id AND decided_at IS NULL AND closed_at IS NULL"
)
CLOSE = sql(
    f"UPDATE agent_prompts SET closed_at = :now, closed_why = :why WHERE id = :id AND {_OPEN}"
)
PANE_SEEN = sql(
    "UPDATE agent_prompts SET pane_seen_at = :at WHERE id = :id AND pane_seen_at IS NULL"
)
HOOK_ROW = sql(
    f"SELECT {COLUMNS} FROM agent_prompts WHERE agent = :agent AND source = :source AND ("
    f"({_OPEN}) OR decided_at > :since OR closed_at > :since) ORDER BY opened_at, id LIMIT 1"
)
TYPING = sql("SELECT typing_at, typed_keys FROM agent_prompts WHERE id = :id")
BEGIN_TYPING = sql(
    "UPDATE agent_prompts SET typing_at = :now, typed_keys = :keys "
    "WHERE id = :id AND typing_at IS NULL AND typed_at IS NULL"
)
FORGET_TYPING = sql(
    "UPDATE agent_prompts SET typing_at = NULL, typed_keys = NULL "
    "WHERE id = :id AND typed_at IS NULL"
)
TYPED = sql("SELECT typed_at, typed_keys, typed_result FROM agent_prompts WHERE id = :id")
MARK_TYPED = sql(
    "UPDATE agent_prompts SET typed_at = :now, typed_keys = :keys, typed_result = :result "
    "WHERE id = :id AND typed_at IS NULL"
)


@dataclass(frozen=True)
class PromptRow:
    """A stored prompt as it is stored (``COLUMNS``; ``options``: a JSON list), read into a
    ``permissions.Prompt`` by its reader."""

    id: int
    agent: str
    task_id: int | None
    source: str
    kind: str
    text: str
    options: str
    session: str | None
    opened_at: float
    decided_at: float | None
    decision: str | None
    decided_by: str | None
    closed_at: float | None
    closed_why: str | None
    hook_host: str | None
    hook_pid: int | None
    hook_start: str | None
    hook_pidns: str | None
    expires_at: float | None
    pane_seen_at: float | None


def prompt_row(row: Any) -> PromptRow | None:
    """A ``COLUMNS`` row (None: none was found)."""
    return None if row is None else PromptRow(*values(row))


def by_id(conn: Conn, prompt_id: int) -> PromptRow | None:
    """Prompt ``prompt_id``, or None."""
    return prompt_row(conn.execute(BY_ID, {"id": prompt_id}).fetchone())


def open_rows(conn: Conn, agent: str | None = None) -> list[PromptRow]:
    """The open prompts (of one agent, or all), oldest first."""
    if agent is None:
        rows = conn.execute(OPEN_ROWS)
    else:
        rows = conn.execute(OPEN_ROWS_OF_AGENT, {"agent": agent})
    return [PromptRow(*values(row)) for row in rows]


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store a new prompt (agent, task_id, source, kind, text, options, session, opened_at,
    hook_host, hook_pid, hook_start, hook_pidns, expires_at): its id."""
    cur = conn.execute(INSERT, dict(zip(INSERT_COLUMNS, row, strict=True)))
    return int(cur.fetchone()["id"])


def opened_since(conn: Conn, agent: str, source: str, since: float, most: int) -> int:
    """How many prompts ``agent`` opened from ``source`` from ``since`` on (at most ``most``
    counted)."""
    row = conn.execute(
        OPENED_SINCE, {"agent": agent, "source": source, "since": since, "most": most}
    ).fetchone()
    return int(row["n"])


def decide(conn: Conn, prompt_id: int, key: str, by: str, now: float) -> bool:
    """Record the decision of the open prompt; False when it was decided or closed already."""
    updated = conn.execute(DECIDE, {"now": now, "key": key, "by": by, "id": prompt_id}).rowcount
    return bool(updated == 1)


def close(conn: Conn, prompt_id: int, why: str, now: float) -> bool:
    """Close the open prompt with ``why``; False when it was decided or closed already."""
    closed = conn.execute(CLOSE, {"now": now, "why": why, "id": prompt_id}).rowcount
    return bool(closed == 1)


def pane_seen(conn: Conn, prompt_id: int, at: float) -> None:
    """The prompt's dialog was first seen on its agent's pane ``at``."""
    conn.execute(PANE_SEEN, {"at": at, "id": prompt_id})


def hook_row(conn: Conn, agent: str, source: str, since: float) -> PromptRow | None:
    """``agent``'s oldest prompt from ``source`` that is open, or was decided or closed after
    ``since``; None when there is none."""
    params = {"agent": agent, "source": source, "since": since}
    return prompt_row(conn.execute(HOOK_ROW, params).fetchone())


def untyped_rows(
    conn: Conn,
    sources: Sequence[str],
    agents: Sequence[str] | None = None,
    other_than: Sequence[str] = (),
) -> list[PromptRow]:
    """The decided prompts from ``sources`` whose key was not typed yet, oldest decision
    first: of ``agents`` (None: of any agent) but none of ``other_than``."""
    if agents is not None and not agents:
        return []
    params = {"sources": listed(sources), "other_than": listed(other_than)}
    if agents is not None:
        params["agents"] = listed(agents)
    untyped = UNTYPED if agents is None else UNTYPED_OF_AGENTS
    rows = conn.execute(untyped.on(conn), params)
    return [PromptRow(*values(row)) for row in rows]


class Typing(NamedTuple):
    """When the typing of a prompt's answer began (None: it did not), and its keys."""

    typing_at: float | None
    typed_keys: str | None


def typing_row(conn: Conn, prompt_id: int) -> Typing | None:
    """The prompt's typing, or None when there is no such prompt."""
    row = conn.execute(TYPING, {"id": prompt_id}).fetchone()
    return None if row is None else Typing(*values(row))


def begin_typing(conn: Conn, prompt_id: int, keys: str, now: float) -> bool:
    """Record that ``keys`` are about to be sent; False when the typing began or was settled
    already."""
    begun = conn.execute(BEGIN_TYPING, {"now": now, "keys": keys, "id": prompt_id}).rowcount
    return bool(begun == 1)


def forget_typing(conn: Conn, prompt_id: int) -> None:
    """Forget a begun typing that was not settled."""
    conn.execute(FORGET_TYPING, {"id": prompt_id})


class Typed(NamedTuple):
    """When a prompt's answer was typed (None: not yet), its keys, and how it went."""

    typed_at: float | None
    typed_keys: str | None
    typed_result: str | None


def typed_row(conn: Conn, prompt_id: int) -> Typed | None:
    """The prompt's typing settled, or None when there is no such prompt."""
    row = conn.execute(TYPED, {"id": prompt_id}).fetchone()
    return None if row is None else Typed(*values(row))


def mark_typed(conn: Conn, prompt_id: int, keys: str | None, result: str, now: float) -> bool:
    """Record the prompt's typing settled (``keys`` typed, or None) with ``result``; False
    when it was settled already."""
    done = conn.execute(
        MARK_TYPED, {"now": now, "keys": keys, "result": result, "id": prompt_id}
    ).rowcount
    return bool(done == 1)
