"""The statements of items held for a person (``core.tasks._held``, table ``held_items``): an
item held once per key, read by id, by key, waiting or accepted, decided once, applied.
Each is one named operation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Held:
    """One held item. ``data`` is what accepting it applies (kept as it was when held);
    ``data["on_accept"]`` / ``data["on_reject"]`` say in one line what each answer does."""

    id: int
    source: str
    kind: str
    key: str
    text: str
    task_id: int | None
    agent: str | None
    data: dict[str, Any] = field(default_factory=dict)
    opened_at: float = 0.0
    decision: str | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    applied_at: float | None = None
    result: str | None = None

    @property
    def ref(self) -> str:
        """``H-3``."""
        return held_ref(self.id)


UNDECIDED = sql(f"SELECT {COLUMNS} FROM held_items WHERE decision IS NULL ORDER BY id")


def held_ref(held_id: int) -> str:
    """``H-3``: an item held for a person."""
    return f"H-{held_id}"


def _held(row: Any) -> Held:
    """A ``COLUMNS`` row."""
    return Held(
        id=int(row["id"]),
        source=row["source"],
        kind=row["kind"],
        key=row["held_key"],
        text=row["text"],
        task_id=row["task_id"],
        agent=row["agent_id"],
        data=json.loads(row["data"] or "{}"),
        opened_at=float(row["opened_at"]),
        decision=row["decision"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        applied_at=row["applied_at"],
        result=row["result"],
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
) -> int | None:
    """Hold ``key`` (``data``: JSON) unless it was held before: the new item's id, or
    None."""
    row = conn.execute(
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
    return None if row is None else int(row["id"])


def by_id(conn: Conn, held_id: int) -> Held | None:
    """The item, or None."""
    row = conn.execute(BY_ID, {"id": held_id}).fetchone()
    return None if row is None else _held(row)


def by_key(conn: Conn, key: str) -> Held | None:
    """The item held for ``key``, or None."""
    row = conn.execute(BY_KEY, {"key": key}).fetchone()
    return None if row is None else _held(row)


def undecided(conn: Conn) -> list[Held]:
    """The items no person has decided yet, oldest first."""
    rows = conn.execute(UNDECIDED)
    return [_held(row) for row in rows]


def not_applied(conn: Conn, decision: str, source: str) -> list[Held]:
    """``source``'s items decided ``decision`` and not applied yet, oldest first."""
    rows = conn.execute(NOT_APPLIED, {"decision": decision, "source": source})
    return [_held(row) for row in rows]


def decide(conn: Conn, held_id: int, decision: str, by: str, now: float) -> bool:
    """Record the decision on an undecided item; False when it was decided already."""
    taken = conn.execute(
        DECIDE, {"decision": decision, "by": by, "now": now, "id": held_id}
    ).rowcount
    return bool(taken == 1)


def mark_applied(conn: Conn, held_id: int, now: float, result: str) -> None:
    """An accepted item was applied, with ``result``."""
    conn.execute(MARK_APPLIED, {"now": now, "result": result, "id": held_id})
