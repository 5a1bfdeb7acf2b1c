"""The statements of items held for a person (``core.tasks.held``, table ``held_items``): an
item held once per key, read by id, by key, waiting or accepted, decided once, applied.
Each is one named operation."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn

COLUMNS = (
    "id, source, kind, held_key, text, task_id, agent_id, data, opened_at, decision, "
    "decided_by, decided_at, applied_at, result"
)


def insert(
    conn: Conn,
    source: str,
    kind: str,
    key: str,
    text: str,
    task_id: int | None,
    agent: str | None,
    data: str,
    now: float,
) -> Any:
    """Hold ``key`` (``data``: JSON) unless it was held before: the new row (``id``), or
    None."""
    return conn.execute(
        "INSERT INTO held_items (source, kind, held_key, text, task_id, agent_id, data, "
        "opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (held_key) DO NOTHING RETURNING id",
        (source, kind, key, text, task_id, agent, data, now),
    ).fetchone()


def by_id(conn: Conn, held_id: int) -> Any:
    """The item's row (``COLUMNS``), or None."""
    return conn.execute(f"SELECT {COLUMNS} FROM held_items WHERE id = $1", (held_id,)).fetchone()


def by_key(conn: Conn, key: str) -> Any:
    """The row of the item held for ``key``, or None."""
    return conn.execute(f"SELECT {COLUMNS} FROM held_items WHERE held_key = $1", (key,)).fetchone()


def undecided(conn: Conn) -> list[Any]:
    """The rows of the items no person has decided yet, oldest first."""
    rows: list[Any] = conn.execute(
        f"SELECT {COLUMNS} FROM held_items WHERE decision IS NULL ORDER BY id"
    ).fetchall()
    return rows


def not_applied(conn: Conn, decision: str, source: str) -> list[Any]:
    """The rows of ``source``'s items decided ``decision`` and not applied yet, oldest
    first."""
    rows: list[Any] = conn.execute(
        f"SELECT {COLUMNS} FROM held_items WHERE decision = $1 AND applied_at IS NULL "
        "AND source = $2 ORDER BY id",
        (decision, source),
    ).fetchall()
    return rows


def decide(conn: Conn, held_id: int, decision: str, by: str, now: float) -> bool:
    """Record the decision on an undecided item; False when it was decided already."""
    taken = conn.execute(
        "UPDATE held_items SET decision = $1, decided_by = $2, decided_at = $3 "
        "WHERE id = $4 AND decision IS NULL",
        (decision, by, now, held_id),
    ).rowcount
    return bool(taken == 1)


def mark_applied(conn: Conn, held_id: int, now: float, result: str) -> None:
    """An accepted item was applied, with ``result``."""
    conn.execute(
        "UPDATE held_items SET applied_at = $1, result = $2 WHERE id = $3",
        (now, result, held_id),
    )
