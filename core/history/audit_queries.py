"""The statements of the audit rows (``audit``): who ran what, allowed or refused, written
by the front ends' commands (``core.history.service.HistoryBook.audit``) and by the changes
a person makes that are audited with their event (a token made or revoked, a decision
refused), in the transaction of the change; read newest first."""

from __future__ import annotations

from dataclasses import dataclass

from core.store.conn import Conn, sql, values

INSERT = sql(
    "INSERT INTO audit (ts, user_id, user_name, command, allowed, outcome) "
    "VALUES (:ts, :user_id, :user_name, :command, :allowed, :outcome)"
)
# an audit row's columns, in ``AuditRow``'s order
AUDIT_COLUMNS = "id, ts, user_id, user_name, command, allowed, outcome"
NEWEST = sql(f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT :limit")


@dataclass(frozen=True)
class AuditRow:
    """Who ran what, when, whether it was allowed (1) or refused (0), and what came of it."""

    id: int
    ts: float
    user_id: str
    user_name: str
    command: str
    allowed: int
    outcome: str


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


def audit_rows(conn: Conn, limit: int) -> list[AuditRow]:
    """Newest audit rows first."""
    return [AuditRow(*values(row)) for row in conn.execute(NEWEST, {"limit": limit})]
