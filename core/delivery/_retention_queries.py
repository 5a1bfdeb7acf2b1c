"""The deliveries' statements of retention (``core.coordinator.retention``): which messages
are old, read a batch at a time, and their deletion with their deliveries once archived.
Old is each statement's one parameter, the cutoff ``:cutoff``: messages of tasks that finished
before it (and task-less ones as old), and only when none of its deliveries is still queued
or being made, or changed since the cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.history.retention_queries import BATCH
from core.store.conn import Conn, in_list, listed, sql, sql_pair, values
from core.tasks import FINISHED_BEFORE


@dataclass(frozen=True)
class MessageRow:
    """A ``messages`` row, every column in the table's order (an archive's line)."""

    id: int
    sender: str
    text: str
    task_id: int | None
    priority: int
    created_at: float
    target_kind: str
    target_name: str | None


@dataclass(frozen=True)
class DeliveryRow:
    """A ``deliveries`` row, every column in the table's order (an archive's line)."""

    id: int
    message_id: int
    agent_id: str
    state: str
    attempts: int
    reason: str | None
    method: str | None
    not_before: float
    created_at: float
    updated_at: float
    node: str | None
    claim_until: float | None
    deferred: int
    node_run: str | None
    dismissed_by: str | None
    dismissed_at: float | None


def _columns(row_type: type[MessageRow | DeliveryRow], table: str) -> str:
    """``row_type``'s fields as ``table``'s columns, in its order."""
    return ", ".join(f"{table}.{f.name}" for f in fields(row_type))


_OLD = (
    " FROM messages m WHERE m.created_at < :cutoff AND (m.task_id IS NULL OR m.task_id IN "
    f"({FINISHED_BEFORE}))"
    " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND (d.state IN "
    "('queued', 'delivering') OR d.updated_at >= :cutoff))"
)
_OLD_MESSAGES = f"SELECT m.*{_OLD}"
OLD_MESSAGE_COUNT = sql(f"SELECT count(*) AS n FROM ({_OLD_MESSAGES}) AS old")
OLD_DELIVERY_COUNT = sql(
    "SELECT count(*) AS n FROM deliveries WHERE message_id IN "
    f"(SELECT id FROM ({_OLD_MESSAGES}) AS old)"
)
OLD_MESSAGES = sql(f"SELECT {_columns(MessageRow, 'm')}{_OLD} ORDER BY m.id LIMIT {BATCH}")
DELIVERIES_OF = sql_pair(
    f"SELECT {_columns(DeliveryRow, 'deliveries')} FROM deliveries WHERE message_id {{ids}}",
    ids=in_list("ids", "BIGINT"),
)
DELETE_DELIVERIES = sql("DELETE FROM deliveries WHERE message_id = :message_id")
DELETE_MESSAGE = sql("DELETE FROM messages WHERE id = :message_id")


def old_counts(conn: Conn, cutoff: float) -> tuple[int, int]:
    """How many messages and deliveries are old."""
    args = {"cutoff": cutoff}
    messages = conn.execute(OLD_MESSAGE_COUNT, args).fetchone()
    deliveries = conn.execute(OLD_DELIVERY_COUNT, args).fetchone()
    return int(messages["n"]), int(deliveries["n"])


def old_messages(conn: Conn, cutoff: float) -> list[MessageRow]:
    """The oldest ``BATCH`` old messages."""
    rows = conn.execute(OLD_MESSAGES, {"cutoff": cutoff})
    return [MessageRow(*values(row)) for row in rows]


def deliveries_of(conn: Conn, message_ids: list[int]) -> list[DeliveryRow]:
    """Every delivery of the messages ``message_ids``."""
    rows = conn.execute(DELIVERIES_OF.on(conn), {"ids": listed(message_ids)})
    return [DeliveryRow(*values(row)) for row in rows]


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
