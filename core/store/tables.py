"""The event outbox's write and the order its events are read in: every feature appends
the event of a change in the change's transaction (``insert_event``), and a consumer reads
the events in commit order (``Unseen``, ``READABLE`` and ``NEWEST_FIRST``, which the event
log's reads in ``core.history.event_queries`` compose). No statement of a table here: each
table's are its owner's (``tests/project/test_named_queries.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard, runtime_checkable

from core.event_kinds import EventKind
from core.store.capability import implements
from core.store.conn import Conn, Pair, Sql, sql_pair

# PostgreSQL: the oldest transaction still running; an event whose ``txid`` is below it
# committed (or never will), so a consumer reading below it never skips a late commit.
HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

# The events a consumer that last saw event ``:after`` reads next (``:txid``: that event's
# commit position): on SQLite (one writer: ids in commit order) those with a higher id; on
# PostgreSQL those committed below the horizon, after it in (txid, id) order.
UNSEEN = Pair("id > :after", f"txid < {HORIZON} AND (txid, id) > (:txid, :after)")
# the same when event ``:after`` has no known position (0, gone, or SQLite): by id
UNSEEN_BY_ID = Pair("id > :after", f"txid < {HORIZON} AND id > :after")
IN_COMMIT_ORDER = Pair("id", "txid, id")
# the events a consumer may read now, and their order newest first
READABLE = Pair("TRUE", f"txid < {HORIZON}")
NEWEST_FIRST = Pair("id DESC", "txid DESC, id DESC")


def insert_event(
    conn: Conn,
    ts: float,
    kind: EventKind,
    text: str,
    *,
    task_id: int | None = None,
    agent: str | None = None,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event to the outbox; call it in the transaction of the change (on
    PostgreSQL the row is sent with the commit: ``Conn.add_event``)."""
    conn.add_event((ts, kind, text, task_id, agent, actor, json.dumps(data) if data else None))


@runtime_checkable
class CommitOrdered(Protocol):
    """A connection whose events may commit out of id order (writers side by side): it
    tells an event's commit position (``core.store.postgres.store``)."""

    def event_txid(self, event_id: int) -> int | None:
        """The id of the transaction that wrote event ``event_id`` (None: no such event)."""
        ...


def _commit_ordered(conn: Conn) -> TypeGuard[CommitOrdered]:
    """Whether ``conn``'s events may commit out of id order (decided once per class)."""
    return implements(conn, CommitOrdered)


@dataclass(frozen=True)
class Unseen:
    """One read of the events a consumer has not seen, as its statements: ``{unseen}`` and
    ``{order}`` in ``select`` filled per dialect, after an event whose commit position is
    known (``known``) and by id (``by_id``). A consumer keeps the id of the last event it
    handled, not the highest. Make it a module constant (``Unseen.of``)."""

    known: Pair[Sql]
    by_id: Pair[Sql]

    @classmethod
    def of(cls, select: str, **fragments: Pair[str]) -> Unseen:
        """The statements of ``select`` (``{unseen}``: the condition; ``{order}``; the
        other fields from ``fragments``, as ``sql_pair`` fills them)."""
        return cls(
            sql_pair(select, unseen=UNSEEN, order=IN_COMMIT_ORDER, **fragments),
            sql_pair(select, unseen=UNSEEN_BY_ID, order=IN_COMMIT_ORDER, **fragments),
        )

    def run(self, conn: Conn, after_id: int, params: dict[str, Any]) -> Any:
        """The cursor of the events after event ``after_id`` (``params``: the others)."""
        conn.flush_events()
        txid = conn.event_txid(after_id) if after_id > 0 and _commit_ordered(conn) else None
        if txid is None:
            return conn.execute(self.by_id.on(conn), {**params, "after": after_id})
        return conn.execute(self.known.on(conn), {**params, "after": after_id, "txid": txid})
