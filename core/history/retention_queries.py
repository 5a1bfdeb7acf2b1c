"""The statements of retention (``core.history.retention``): which rows are old, read a
batch at a time, and their deletion once archived. Old is each statement's one parameter,
the cutoff ``$1``: events, messages and deliveries of tasks that finished before it (and
task-less ones as old), audit rows before it. A message is old only when none of its
deliveries is still queued or being made, or changed since the cutoff.
"""

from __future__ import annotations

from typing import Any

from core.models import FINISHED_SQL
from core.store.conn import Args, Conn

BATCH = 2000  # rows per batch: one transaction each

_OLD_EVENTS = (
    "SELECT e.* FROM events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.ts < $1 AND "
    f"(e.task_id IS NULL OR (t.status IN {FINISHED_SQL} AND t.finished_at < $1))"
)
_OLD_MESSAGES = (
    "SELECT m.* FROM messages m LEFT JOIN tasks t ON t.id = m.task_id WHERE m.created_at < "
    f"$1 AND (m.task_id IS NULL OR (t.status IN {FINISHED_SQL} AND t.finished_at < $1))"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND (d.state IN "
    "('queued', 'delivering') OR d.updated_at >= $1))"
)
_OLD_AUDIT = "SELECT * FROM audit WHERE ts < $1"


def old_audit_count(conn: Conn, cutoff: float) -> int:
    """How many audit rows are older than ``cutoff``."""
    row = conn.execute(f"SELECT count(*) AS n FROM ({_OLD_AUDIT}) AS old", (cutoff,)).fetchone()
    return int(row["n"])


def old_audit(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` audit rows older than ``cutoff``, every column."""
    rows: list[Any] = conn.execute(f"{_OLD_AUDIT} ORDER BY id LIMIT {BATCH}", (cutoff,)).fetchall()
    return rows


def delete_audit(conn: Conn, rows: list[Any]) -> None:
    """Delete the audit ``rows`` (as ``old_audit`` read them)."""
    conn.executemany("DELETE FROM audit WHERE id = $1", [(r["id"],) for r in rows])


def old_counts(conn: Conn, cutoff: float) -> tuple[int, int, int]:
    """How many events, messages and deliveries are old. The events this transaction holds
    are written first (``flush_events``), so they are counted too."""
    args = (cutoff,)
    conn.flush_events()
    events = conn.execute(f"SELECT count(*) AS n FROM ({_OLD_EVENTS}) AS old", args).fetchone()
    messages = conn.execute(f"SELECT count(*) AS n FROM ({_OLD_MESSAGES}) AS old", args).fetchone()
    deliveries = conn.execute(
        "SELECT count(*) AS n FROM deliveries WHERE message_id IN "
        f"(SELECT id FROM ({_OLD_MESSAGES}) AS old)",
        args,
    ).fetchone()
    return int(events["n"]), int(messages["n"]), int(deliveries["n"])


def old_events(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` old events, every column (the events this transaction holds
    written first, ``flush_events``)."""
    conn.flush_events()
    rows: list[Any] = conn.execute(
        f"{_OLD_EVENTS} ORDER BY e.id LIMIT {BATCH}", (cutoff,)
    ).fetchall()
    return rows


def delete_events(conn: Conn, rows: list[Any]) -> None:
    """Delete the events ``rows`` (as ``old_events`` read them)."""
    conn.executemany("DELETE FROM events WHERE id = $1", [(r["id"],) for r in rows])


def old_messages(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` old messages, every column."""
    rows: list[Any] = conn.execute(
        f"{_OLD_MESSAGES} ORDER BY m.id LIMIT {BATCH}", (cutoff,)
    ).fetchall()
    return rows


def deliveries_of(conn: Conn, message_ids: list[int]) -> list[Any]:
    """Every delivery of the messages ``message_ids``, every column."""
    args = Args()
    rows: list[Any] = conn.execute(
        f"SELECT * FROM deliveries WHERE message_id IN ({args.many(message_ids)})", args
    ).fetchall()
    return rows


def delete_messages(conn: Conn, message_ids: list[int]) -> None:
    """Delete the messages ``message_ids`` with their deliveries (the deliveries first)."""
    ids = [(i,) for i in message_ids]
    conn.executemany("DELETE FROM deliveries WHERE message_id = $1", ids)
    conn.executemany("DELETE FROM messages WHERE id = $1", ids)


def pending_deliveries(conn: Conn) -> int:
    """How many deliveries are queued or being made."""
    row = conn.execute(
        "SELECT count(*) AS n FROM deliveries WHERE state IN ('queued', 'delivering')"
    ).fetchone()
    return int(row["n"])
