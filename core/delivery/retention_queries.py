"""The deliveries' statements of retention (``core.coordinator.retention``): which messages
are old, read a batch at a time, and their deletion with their deliveries once archived.
Old is each statement's one parameter, the cutoff ``:cutoff``: messages of tasks that finished
before it (and task-less ones as old), and only when none of its deliveries is still queued
or being made, or changed since the cutoff.
"""

from __future__ import annotations

from typing import Any

from core.history.retention_queries import BATCH
from core.models import FINISHED_SQL
from core.store.conn import Args, Conn, sql

_OLD_MESSAGES = (
    "SELECT m.* FROM messages m LEFT JOIN tasks t ON t.id = m.task_id WHERE m.created_at < "
    f":cutoff AND (m.task_id IS NULL OR (t.status IN {FINISHED_SQL} AND t.finished_at < :cutoff))"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND (d.state IN "
    "('queued', 'delivering') OR d.updated_at >= :cutoff))"
)
OLD_MESSAGE_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_MESSAGES}) AS old")
OLD_DELIVERY_COUNT = sql(
    "SELECT count(*) AS n FROM deliveries WHERE message_id IN "
    f"(SELECT id FROM ({_OLD_MESSAGES}) AS old)"
)
OLD_MESSAGES = sql(f"{_OLD_MESSAGES} ORDER BY m.id LIMIT {BATCH}")
DELETE_DELIVERIES = sql("DELETE FROM deliveries WHERE message_id = :message_id")
DELETE_MESSAGE = sql("DELETE FROM messages WHERE id = :message_id")


def old_counts(conn: Conn, cutoff: float) -> tuple[int, int]:
    """How many messages and deliveries are old."""
    args = {"cutoff": cutoff}
    messages = conn.execute(OLD_MESSAGE_COUNT, args).fetchone()
    deliveries = conn.execute(OLD_DELIVERY_COUNT, args).fetchone()
    return int(messages["n"]), int(deliveries["n"])


def old_messages(conn: Conn, cutoff: float) -> list[Any]:
    """The oldest ``BATCH`` old messages, every column."""
    rows: list[Any] = conn.execute(OLD_MESSAGES, {"cutoff": cutoff}).fetchall()
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
    ids = [{"message_id": i} for i in message_ids]
    conn.executemany(DELETE_DELIVERIES, ids)
    conn.executemany(DELETE_MESSAGE, ids)


def pending_deliveries(conn: Conn) -> int:
    """How many deliveries are queued or being made."""
    row = conn.execute(
        "SELECT count(*) AS n FROM deliveries WHERE state IN ('queued', 'delivering')"
    ).fetchone()
    return int(row["n"])
