"""The statements of plans (``core.planning.store``, table ``plans``): a draft stored, a
plan read and listed, decided once, its tasks recorded. Each is one named operation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.store.conn import Args, Conn


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store a draft (goal, summary, plan, model, notes, created_by, created_at,
    updated_at): its id."""
    cur = conn.execute(
        "INSERT INTO plans (goal, summary, status, plan, model, notes, created_by, created_at, "
        "updated_at) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8) RETURNING id",
        row,
    )
    return int(cur.fetchone()["id"])


def by_id(conn: Conn, plan_id: int) -> Any:
    """The plan's row, or None."""
    return conn.execute("SELECT * FROM plans WHERE id = $1", (plan_id,)).fetchone()


def rows(conn: Conn, status: str | None, limit: int) -> Any:
    """The plans' rows (of ``status``, or all), newest first, at most ``limit``."""
    args = Args()
    where = f"WHERE status = {args(status)}" if status else ""
    return conn.execute(f"SELECT * FROM plans {where} ORDER BY id DESC LIMIT {args(limit)}", args)


def decide(conn: Conn, plan_id: int, status: str, by: str, now: float) -> None:
    """The plan is ``status`` (approved, discarded), decided ``by`` at ``now``."""
    conn.execute(
        "UPDATE plans SET status = $1, decided_by = $2, decided_at = $3, updated_at = $4 "
        "WHERE id = $5",
        (status, by, now, now, plan_id),
    )


def set_tasks(conn: Conn, plan_id: int, task_ids: str) -> None:
    """The plan's tasks (``task_ids``: a JSON list)."""
    conn.execute("UPDATE plans SET task_ids = $1 WHERE id = $2", (task_ids, plan_id))
