"""The event outbox's write and the order its events are read in: every feature appends
the event of a change in the change's transaction (``insert_event``), and a consumer reads
the events in commit order (``unseen``, ``newest_first``, which the event log's reads in
``core.history.event_queries`` use). No statement here: each table's are its owner's
(``tests/project/test_named_queries.py``)."""

from __future__ import annotations

import json
from typing import Any, Protocol, TypeGuard, runtime_checkable

from core.event_kinds import EventKind
from core.store.capability import implements
from core.store.conn import Args, Conn


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
    says which events a consumer may read and in what order (``core.store.postgres.store``)."""

    def events_after(self, args: Args, after_id: int) -> tuple[str, str]:
        """The condition (its parameters added to ``args``) and the order of the events
        after ``after_id``."""
        ...

    def newest_events_order(self) -> tuple[str, str]:
        """The condition and the newest-first order of the events a consumer may read."""
        ...


def _commit_ordered(conn: Conn) -> TypeGuard[CommitOrdered]:
    """Whether ``conn``'s events may commit out of id order (decided once per class)."""
    return implements(conn, CommitOrdered)


def unseen(conn: Conn, args: Args, after_id: int) -> tuple[str, str]:
    """The condition (its parameters added to ``args``) and the order of the events a
    consumer that last saw event ``after_id`` reads next: on SQLite (one writer: ids in
    commit order) those with a higher id; on PostgreSQL those committed below the outbox
    horizon, after it in (txid, id) order. A consumer keeps the id of the last event it
    handled, not the highest."""
    conn.flush_events()
    if _commit_ordered(conn):
        return conn.events_after(args, after_id)
    return f"id > {args(after_id)}", "id"


def newest_first(conn: Conn) -> tuple[str, str]:
    """The condition and the order of the events a consumer may read, newest first."""
    conn.flush_events()
    if _commit_ordered(conn):
        return conn.newest_events_order()
    return "TRUE", "id DESC"
