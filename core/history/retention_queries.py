"""The history's statements of retention (``core.coordinator.retention``): which events
and audit rows are old, read a batch at a time, and their deletion once archived. Old is
each statement's one parameter, the cutoff ``:cutoff``: events of tasks that finished before it
(and task-less ones as old), audit rows before it. The messages' and deliveries' are
``core.delivery.retention_queries``.
"""

from __future__ import annotations

from typing import Any

from core.models import FINISHED_SQL
from core.store.conn import Conn, sql

BATCH = 2000  # rows per batch: one transaction each

_OLD_EVENTS = (
    "SELECT e.* FROM events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.ts < :cutoff AND "
    f"(e.task_id IS NULL OR (t.status IN {FINISHED_SQL} AND t.finished_at < :cutoff))"
)
_OLD_AUDIT = "SELECT * FROM audit WHERE ts < :cutoff"
OLD_AUDIT_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_AUDIT}) AS old")
OLD_AUDIT = sql(f"{_OLD_AUDIT} ORDER BY id LIMIT {BATCH}")
DELETE_AUDIT = sql("DELETE FROM audit WHERE id = :id")
OLD_EVENT_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_EVENTS}) AS old")
OLD_EVENTS = sql(f"{_OLD_EVENTS} ORDER BY e.id LIMIT {BATCH}")
DELETE_EVENT = sql("DELETE FROM events WHERE id = :id")


def old_audit_count(conn: Conn, cutoff: float) -> int:
    """How many audit rows are older than ``cutoff``."""
    row = conn.execute(OLD_AUDIT_COUNT, {"cutoff": cutoff}).fetchone()
    return int(row["n"])


def old_audit(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` audit rows older than ``cutoff``, every column."""
    rows: list[Any] = conn.execute(OLD_AUDIT, {"cutoff": cutoff}).fetchall()
    return rows


def delete_audit(conn: Conn, rows: list[Any]) -> None:
    """Delete the audit ``rows`` (as ``old_audit`` read them)."""
    conn.executemany(DELETE_AUDIT, [{"id": r["id"]} for r in rows])


def old_event_count(conn: Conn, cutoff: float) -> int:
    """How many events are old. The events this transaction holds are written first
    (``flush_events``), so they are counted too."""
    conn.flush_events()
    row = conn.execute(OLD_EVENT_COUNT, {"cutoff": cutoff}).fetchone()
    return int(row["n"])


def old_events(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` old events, every column (the events this transaction holds
    written first, ``flush_events``)."""
    conn.flush_events()
    rows: list[Any] = conn.execute(OLD_EVENTS, {"cutoff": cutoff}).fetchall()
    return rows


def delete_events(conn: Conn, rows: list[Any]) -> None:
    """Delete the events ``rows`` (as ``old_events`` read them)."""
    conn.executemany(DELETE_EVENT, [{"id": r["id"]} for r in rows])
