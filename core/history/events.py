"""Events matching a filter (``swarm events --since/--kind/--grep/--task``), in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.history import event_queries
from core.models import Event
from core.store.conn import Conn, listed, values


@dataclass(frozen=True)
class EventFilter:
    """Which events: at or after ``since`` (epoch s), of ``kinds`` (a kind, or its family:
    ``task`` matches every ``task.*``; case ignored, as kinds are lower case), whose text
    contains ``grep`` (ASCII case ignored), of one task, with an id up to ``until_id``."""

    since: float | None = None
    kinds: tuple[str, ...] = ()
    grep: str = ""
    task_id: int | None = None
    until_id: int | None = None

    def params(self) -> dict[str, Any]:
        """The values of the filter's statement (``event_queries.MATCHING``): None for a
        part not asked; ``task_id`` only when asked (``MATCHING_OF_TASK``)."""
        kinds = [k.lower() for k in self.kinds]
        found: dict[str, Any] = {
            "since": self.since,
            "kinds": listed(kinds) if kinds else None,
            "grep": "%" + _escaped(self.grep.lower()) + "%" if self.grep else None,
            "until_id": self.until_id,
        }
        if self.task_id is not None:
            found["task_id"] = self.task_id
        return found

    @property
    def reads(self) -> event_queries.FilterReads:
        """The statements that read this filter's events."""
        if self.task_id is None:
            return event_queries.MATCHING
        return event_queries.MATCHING_OF_TASK


def _escaped(text: str) -> str:
    """``text`` matched literally by ``LIKE ... ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_events(
    conn: Conn,
    flt: EventFilter,
    after_id: int = 0,
    limit: int = 100,
    newest: bool = False,
) -> list[Event]:
    """Matching events after event ``after_id`` in commit order (``tables.Unseen``), oldest
    first: the first ``limit`` of them, or the last ``limit`` when ``newest`` (then by id
    after ``after_id``)."""
    params = {**flt.params(), "limit": limit}
    if newest:
        conn.flush_events()
        rows = conn.execute(flt.reads.newest.on(conn), {**params, "after": after_id}).fetchall()
        return [event_queries.row_to_event(r) for r in reversed(rows)]
    rows = flt.reads.after.run(conn, after_id, params)
    return [event_queries.row_to_event(r) for r in rows]


def count_events(conn: Conn, flt: EventFilter) -> int:
    """How many events match ``flt``."""
    row = conn.execute(flt.reads.count.on(conn), flt.params()).fetchone()
    return int(values(row)[0])
