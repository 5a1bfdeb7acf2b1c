"""The statements of the audit rows (``audit``): who ran what, allowed or refused, written
by the front ends' commands (``core.history.service.HistoryBook.audit``) and by the changes
a person makes that are audited with their event (a token made or revoked, a decision
refused), in the transaction of the change; read newest first."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn, sql

INSERT = sql(
    "INSERT INTO audit (ts, user_id, user_name, command, allowed, outcome) "
    "VALUES (:ts, :user_id, :user_name, :command, :allowed, :outcome)"
)
NEWEST = sql("SELECT * FROM audit ORDER BY id DESC LIMIT :limit")


def insert_audit(
    conn: Conn,
    ts: float,
    user_id: str,
    user_name: str,
    command: str,
    allowed: bool,
    outcome: str,
) -> None:
    """One audit row."""
    conn.execute(
        INSERT,
        {
            "ts": ts,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "allowed": int(allowed),
            "outcome": outcome,
        },
    )


def audit_rows(conn: Conn, limit: int) -> list[dict[str, Any]]:
    """Newest audit rows first."""
    rows = conn.execute(NEWEST, {"limit": limit})
    return [dict(r) for r in rows]
