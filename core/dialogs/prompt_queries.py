"""The statements of permission prompts (``core.dialogs.permissions``, ``answer_keys``;
table ``agent_prompts``): a prompt read, listed, opened, decided once, closed once, seen on
its pane; its answer's key typed once. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Args, Conn

COLUMNS = (
    "id, agent, task_id, source, kind, text, options, session, opened_at, "
    "decided_at, decision, decided_by, closed_at, closed_why, "
    "hook_host, hook_pid, hook_start, hook_pidns, expires_at, pane_seen_at"
)
_OPEN = "decided_at IS NULL AND closed_at IS NULL"  # the open prompts' index has this WHERE


def by_id(conn: Conn, prompt_id: int) -> Any:
    """Prompt ``prompt_id``'s row (``COLUMNS``), or None."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM agent_prompts WHERE id = $1", (prompt_id,)
    ).fetchone()


def open_rows(conn: Conn, agent: str | None = None) -> list[Any]:
    """The open prompts' rows (of one agent, or all), oldest first."""
    sql = f"SELECT {COLUMNS} FROM agent_prompts WHERE {_OPEN}"
    args: tuple[Any, ...] = ()
    if agent is not None:
        sql += " AND agent = $1"
        args = (agent,)
    rows: list[Any] = conn.execute(sql + " ORDER BY opened_at, id", args).fetchall()
    return rows


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store a new prompt (agent, task_id, source, kind, text, options, session, opened_at,
    hook_host, hook_pid, hook_start, hook_pidns, expires_at): its id."""
    cur = conn.execute(
        "INSERT INTO agent_prompts (agent, task_id, source, kind, text, options, session, "
        "opened_at, hook_host, hook_pid, hook_start, hook_pidns, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        row,
    )
    return int(cur.fetchone()["id"])


def opened_since(conn: Conn, agent: str, source: str, since: float, most: int) -> int:
    """How many prompts ``agent`` opened from ``source`` from ``since`` on (at most ``most``
    counted)."""
    row = conn.execute(
        "SELECT count(*) AS n FROM (SELECT 1 FROM agent_prompts WHERE agent = $1 AND "
        "source = $2 AND opened_at >= $3 LIMIT $4) AS recent",
        (agent, source, since, most),
    ).fetchone()
    return int(row["n"])


def decide(conn: Conn, prompt_id: int, key: str, by: str, now: float) -> bool:
    """Record the decision of the open prompt; False when it was decided or closed already."""
    updated = conn.execute(
        "UPDATE agent_prompts SET decided_at = $1, decision = $2, decided_by = $3 "
        "WHERE id = $4 AND decided_at IS NULL AND closed_at IS NULL",
        (now, key, by, prompt_id),
    ).rowcount
    return bool(updated == 1)


def close(conn: Conn, prompt_id: int, why: str, now: float) -> bool:
    """Close the open prompt with ``why``; False when it was decided or closed already."""
    closed = conn.execute(
        f"UPDATE agent_prompts SET closed_at = $1, closed_why = $2 WHERE id = $3 AND {_OPEN}",
        (now, why, prompt_id),
    ).rowcount
    return bool(closed == 1)


def pane_seen(conn: Conn, prompt_id: int, at: float) -> None:
    """The prompt's dialog was first seen on its agent's pane ``at``."""
    conn.execute(
        "UPDATE agent_prompts SET pane_seen_at = $1 WHERE id = $2 AND pane_seen_at IS NULL",
        (at, prompt_id),
    )


def hook_row(conn: Conn, agent: str, source: str, since: float) -> Any:
    """``agent``'s oldest prompt from ``source`` that is open, or was decided or closed after
    ``since``; None when there is none."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM agent_prompts WHERE agent = $1 AND source = $2 AND ("
        f"({_OPEN}) OR decided_at > $3 OR closed_at > $3) ORDER BY opened_at, id LIMIT 1",
        (agent, source, since),
    ).fetchone()


def untyped_rows(
    conn: Conn,
    sources: Sequence[str],
    agents: Sequence[str] | None = None,
    other_than: Sequence[str] = (),
) -> list[Any]:
    """The decided prompts from ``sources`` whose key was not typed yet, oldest decision
    first: of ``agents`` (None: of any agent) but none of ``other_than``."""
    if agents is not None and not agents:
        return []
    args = Args()
    sql = (
        f"SELECT {COLUMNS} FROM agent_prompts WHERE decided_at IS NOT NULL AND typed_at IS NULL "
        f"AND source IN ({args.many(sources)})"
    )
    if agents is not None:
        sql += f" AND agent IN ({args.many(agents)})"
    if other_than:
        sql += f" AND agent NOT IN ({args.many(other_than)})"
    rows: list[Any] = conn.execute(f"{sql} ORDER BY decided_at, id", args).fetchall()
    return rows


def typing_row(conn: Conn, prompt_id: int) -> Any:
    """The prompt's ``typing_at`` and ``typed_keys``, or None."""
    return conn.execute(
        "SELECT typing_at, typed_keys FROM agent_prompts WHERE id = $1", (prompt_id,)
    ).fetchone()


def begin_typing(conn: Conn, prompt_id: int, keys: str, now: float) -> bool:
    """Record that ``keys`` are about to be sent; False when the typing began or was settled
    already."""
    return bool(
        conn.execute(
            "UPDATE agent_prompts SET typing_at = $1, typed_keys = $2 "
            "WHERE id = $3 AND typing_at IS NULL AND typed_at IS NULL",
            (now, keys, prompt_id),
        ).rowcount
        == 1
    )


def forget_typing(conn: Conn, prompt_id: int) -> None:
    """Forget a begun typing that was not settled."""
    conn.execute(
        "UPDATE agent_prompts SET typing_at = NULL, typed_keys = NULL "
        "WHERE id = $1 AND typed_at IS NULL",
        (prompt_id,),
    )


def typed_row(conn: Conn, prompt_id: int) -> Any:
    """The prompt's ``typed_at``, ``typed_keys`` and ``typed_result``, or None."""
    return conn.execute(
        "SELECT typed_at, typed_keys, typed_result FROM agent_prompts WHERE id = $1", (prompt_id,)
    ).fetchone()


def mark_typed(conn: Conn, prompt_id: int, keys: str | None, result: str, now: float) -> bool:
    """Record the prompt's typing settled (``keys`` typed, or None) with ``result``; False
    when it was settled already."""
    done = conn.execute(
        "UPDATE agent_prompts SET typed_at = $1, typed_keys = $2, typed_result = $3 "
        "WHERE id = $4 AND typed_at IS NULL",
        (now, keys, result, prompt_id),
    ).rowcount
    return bool(done == 1)
