"""Events matching a filter (``swarm events --since/--kind/--grep/--task``), in SQL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from core.models import Event
from core.store.tables import newest_first, row_to_event, unseen


@dataclass(frozen=True)
class EventFilter:
    """Which events: at or after ``since`` (epoch s), of ``kinds`` (``task`` matches every
    ``task.*``), whose text contains ``grep`` (ASCII case ignored), of one task, with an id
    up to ``until_id``."""

    since: float | None = None
    kinds: tuple[str, ...] = ()
    grep: str = ""
    task_id: int | None = None
    until_id: int | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL condition and its parameters."""
        parts: list[str] = ["TRUE"]
        params: list[object] = []
        if self.since is not None:
            parts.append("ts >= ?")
            params.append(self.since)
        if self.kinds:
            parts.append(
                "(" + " OR ".join("kind = ? OR kind LIKE ? ESCAPE '\\'" for _ in self.kinds) + ")"
            )
            for kind in self.kinds:
                escaped = kind.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params += [kind, f"{escaped}.%"]
        if self.grep:
            parts.append("instr(lower(text), lower(?)) > 0")
            params.append(self.grep)
        if self.task_id is not None:
            parts.append("task_id = ?")
            params.append(self.task_id)
        if self.until_id is not None:
            parts.append("id <= ?")
            params.append(self.until_id)
        return " AND ".join(parts), params


def find_events(
    conn: sqlite3.Connection,
    flt: EventFilter,
    after_id: int = 0,
    limit: int = 100,
    newest: bool = False,
) -> list[Event]:
    """Matching events after event ``after_id`` in commit order (``tables.unseen``), oldest
    first: the first ``limit`` of them, or the last ``limit`` when ``newest`` (then by id
    after ``after_id``)."""
    where, params = flt.where()
    after: list[Any]
    if newest:
        cond, order = newest_first(conn)
        cond, after = f"id > ? AND {cond}", [after_id]
    else:
        cond, after, order = unseen(conn, after_id)
    rows = conn.execute(
        f"SELECT * FROM events WHERE {cond} AND {where} ORDER BY {order} LIMIT ?",
        (*after, *params, limit),
    ).fetchall()
    found = [row_to_event(r) for r in rows]
    return found[::-1] if newest else found
