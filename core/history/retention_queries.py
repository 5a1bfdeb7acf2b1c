"""The history's statements of retention (``core.coordinator.retention``): which events
and audit rows are old, read a batch at a time, and their deletion once archived. Old is
each statement's one parameter, the cutoff ``:cutoff``: events of tasks that finished before it
(core.tasks' ``FINISHED_BEFORE``; task-less ones as old), audit rows before it. The messages'
and deliveries' are ``core.delivery._retention_queries``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.history.audit_queries import AUDIT_COLUMNS, AuditRow
from core.store.conn import Conn, sql, values
from core.tasks import FINISHED_BEFORE

BATCH = 2000  # rows per batch: one transaction each

_OLD_EVENTS = (
    "SELECT e.id, e.ts, e.kind, e.text, e.task_id, e.agent_id, e.actor, e.data, e.txid "
    "FROM events e WHERE e.ts < :cutoff AND "
    f"(e.task_id IS NULL OR e.task_id IN ({FINISHED_BEFORE}))"
)
_OLD_AUDIT = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE ts < :cutoff"
OLD_AUDIT_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_AUDIT}) AS old")
OLD_AUDIT = sql(f"{_OLD_AUDIT} ORDER BY id LIMIT {BATCH}")
DELETE_AUDIT = sql("DELETE FROM audit WHERE id = :id")
OLD_EVENT_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_EVENTS}) AS old")
OLD_EVENTS = sql(f"{_OLD_EVENTS} ORDER BY e.id LIMIT {BATCH}")
DELETE_EVENT = sql("DELETE FROM events WHERE id = :id")


@dataclass(frozen=True)
class EventRow:
    """An ``events`` row as it is archived: every column, its data as stored (JSON)."""

    id: int
    ts: float
    kind: str
    text: str
    task_id: int | None
    agent_id: str | None
    actor: str | None
    data: str | None
    txid: int


def old_audit_count(conn: Conn, cutoff: float) -> int:
    """How many audit rows are older than ``cutoff``."""
    row = conn.execute(OLD_AUDIT_COUNT, {"cutoff": cutoff}).fetchone()
    return int(row["n"])


def old_audit(conn: Conn, cutoff: float) -> list[AuditRow]:
    """The oldest ``BATCH`` audit rows older than ``cutoff``."""
    return [AuditRow(*values(row)) for row in conn.execute(OLD_AUDIT, {"cutoff": cutoff})]


def delete_audit(conn: Conn, rows: list[AuditRow]) -> None:
    """Delete the audit ``rows`` (as ``old_audit`` read them)."""
    conn.executemany(DELETE_AUDIT, [{"id": r.id} for r in rows])


def old_event_count(conn: Conn, cutoff: float) -> int:
    """How many events are old. The events this transaction holds are written first
    (``flush_events``), so they are counted too."""
    conn.flush_events()
    row = conn.execute(OLD_EVENT_COUNT, {"cutoff": cutoff}).fetchone()
    return int(row["n"])


def old_events(conn: Conn, cutoff: float) -> list[EventRow]:
    """The oldest ``BATCH`` old events (the events this transaction holds written first,
    ``flush_events``)."""
    conn.flush_events()
    return [EventRow(*values(row)) for row in conn.execute(OLD_EVENTS, {"cutoff": cutoff})]


def delete_events(conn: Conn, rows: list[EventRow]) -> None:
    """Delete the events ``rows`` (as ``old_events`` read them)."""
    conn.executemany(DELETE_EVENT, [{"id": r.id} for r in rows])
