"""Events matching a filter (``swarm events --since/--kind/--grep/--task``), in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from core.history import event_queries
from core.models import Event
from core.store.conn import Args, Conn
from core.store.tables import newest_first, unseen


@dataclass(frozen=True)
class EventFilter:
    """Which events: at or after ``since`` (epoch s), of ``kinds`` (``task`` matches every
    ``task.*``; case ignored, as kinds are lower case), whose text contains ``grep`` (ASCII
    case ignored), of one task, with an id up to ``until_id``."""

    since: float | None = None
    kinds: tuple[str, ...] = ()
    grep: str = ""
    task_id: int | None = None
    until_id: int | None = None

    def where(self, params: Args) -> str:
        """The SQL condition; its parameters appended to ``params``."""
        parts: list[str] = ["TRUE"]
        if self.since is not None:
            parts.append(f"ts >= {params(self.since)}")
        if self.kinds:
            ors = (
                f"kind = {params(kind)} OR kind LIKE {params(_escaped(kind) + '.%')} ESCAPE '\\'"
                for kind in (k.lower() for k in self.kinds)
            )
            parts.append("(" + " OR ".join(ors) + ")")
        if self.grep:
            pattern = params("%" + _escaped(self.grep.lower()) + "%")
            parts.append(f"lower(text) LIKE {pattern} ESCAPE '\\'")
        if self.task_id is not None:
            parts.append(f"task_id = {params(self.task_id)}")
        if self.until_id is not None:
            parts.append(f"id <= {params(self.until_id)}")
        return " AND ".join(parts)


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
    """Matching events after event ``after_id`` in commit order (``tables.unseen``), oldest
    first: the first ``limit`` of them, or the last ``limit`` when ``newest`` (then by id
    after ``after_id``)."""
    params = Args()
    if newest:
        cond, order = newest_first(conn)
        cond = f"id > {params(after_id)} AND {cond}"
    else:
        cond, order = unseen(conn, params, after_id)
    where = flt.where(params)
    found = event_queries.matching(conn, params, cond, where, order, limit)
    return found[::-1] if newest else found
