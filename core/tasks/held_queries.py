"""The statements of items held for a person (``core.tasks.held``, table ``held_items``): an
item held once per key, read by id, by key, waiting or accepted, decided once, applied.
Each is one named operation."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn, sql

COLUMNS = (
    "id, source, kind, held_key, text, task_id, agent_id, data, opened_at, decision, "
    "decided_by, decided_at, applied_at, result"
)
INSERT = sql(
    "INSERT INTO held_items (source, kind, held_key, text, task_id, agent_id, data, "
    "opened_at) VALUES (:source, :kind, :key, :text, :task_id, :agent, :data, :now) "
    "ON CONFLICT (held_key) DO NOTHING RETURNING id"
)
BY_ID = sql(f"SELECT {COLUMNS} FROM held_items WHERE id = :id")
BY_KEY = sql(f"SELECT {COLUMNS} FROM held_items WHERE held_key = :key")
NOT_APPLIED = sql(
    f"SELECT {COLUMNS} FROM held_items WHERE decision = :decision AND applied_at IS NULL "
    "AND source = :source ORDER BY id"
)
DECIDE = sql(
    "UPDATE held_items SET decision = :decision, decided_by = :by, decided_at = :now "
    "WHERE id = :id AND decision IS NULL"
)
MARK_APPLIED = sql("UPDATE held_items SET applied_at = :now, result = :result WHERE id = :id")


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
        INSERT,
        {
            "source": source,
            "kind": kind,
            "key": key,
            "text": text,
            "task_id": task_id,
            "agent": agent,
            "data": data,
            "now": now,
        },
    ).fetchone()


def by_id(conn: Conn, held_id: int) -> Any:
    """The item's row (``COLUMNS``), or None."""
    return conn.execute(BY_ID, {"id": held_id}).fetchone()


def by_key(conn: Conn, key: str) -> Any:
    """The row of the item held for ``key``, or None."""
    return conn.execute(BY_KEY, {"key": key}).fetchone()


def undecided(conn: Conn) -> list[Any]:
    """The rows of the items no person has decided yet, oldest first."""
    rows: list[Any] = conn.execute(
        f"SELECT {COLUMNS} FROM held_items WHERE decision IS NULL ORDER BY id"
    ).fetchall()
    return rows


def not_applied(conn: Conn, decision: str, source: str) -> list[Any]:
    """The rows of ``source``'s items decided ``decision`` and not applied yet, oldest
    first."""
    rows: list[Any] = conn.execute(NOT_APPLIED, {"decision": decision, "source": source}).fetchall()
    return rows


def decide(conn: Conn, held_id: int, decision: str, by: str, now: float) -> bool:
    """Record the decision on an undecided item; False when it was decided already."""
    taken = conn.execute(
        DECIDE, {"decision": decision, "by": by, "now": now, "id": held_id}
    ).rowcount
    return bool(taken == 1)


def mark_applied(conn: Conn, held_id: int, now: float, result: str) -> None:
    """An accepted item was applied, with ``result``."""
    conn.execute(MARK_APPLIED, {"now": now, "result": result, "id": held_id})
