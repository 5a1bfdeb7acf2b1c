"""The statements of plans (``core.planning._store``, table ``plans``): a draft stored, a
plan read and listed, decided once, its tasks recorded. Each is one named operation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.planning._model import Plan, item_from_json
from core.store.conn import Conn, Row, sql

# a draft's columns, in the order ``insert`` takes them
DRAFT_COLUMNS = ("goal", "summary", "plan", "model", "notes", "created_by", "created_at",
                 "updated_at")  # fmt: skip
INSERT = sql(
    "INSERT INTO plans (goal, summary, status, plan, model, notes, created_by, created_at, "
    "updated_at) VALUES (:goal, :summary, 'draft', :plan, :model, :notes, :created_by, "
    ":created_at, :updated_at) RETURNING id"
)
PLAN = sql("SELECT * FROM plans WHERE id = :id")
NEWEST = sql("SELECT * FROM plans ORDER BY id DESC LIMIT :limit")
NEWEST_OF_STATUS = sql("SELECT * FROM plans WHERE status = :status ORDER BY id DESC LIMIT :limit")
DECIDE = sql(
    "UPDATE plans SET status = :status, decided_by = :by, decided_at = :now, "
    "updated_at = :now WHERE id = :id"
)
SET_TASKS = sql("UPDATE plans SET task_ids = :task_ids WHERE id = :id")


def insert(conn: Conn, row: Sequence[Any]) -> int:
    """Store a draft (its values in ``DRAFT_COLUMNS`` order): its id."""
    cur = conn.execute(INSERT, dict(zip(DRAFT_COLUMNS, row, strict=True)))
    return int(cur.fetchone()["id"])


def by_id(conn: Conn, plan_id: int) -> Plan | None:
    """The plan, or None."""
    found = conn.execute(PLAN, {"id": plan_id}).fetchone()
    return None if found is None else plan_of(found)


def rows(conn: Conn, status: str | None, limit: int) -> list[Plan]:
    """The plans (of ``status``, or all), newest first, at most ``limit``."""
    if status:
        found = conn.execute(NEWEST_OF_STATUS, {"status": status, "limit": limit})
    else:
        found = conn.execute(NEWEST, {"limit": limit})
    return [plan_of(r) for r in found]


def decide(conn: Conn, plan_id: int, status: str, by: str, now: float) -> None:
    """The plan is ``status`` (approved, discarded), decided ``by`` at ``now``."""
    conn.execute(DECIDE, {"status": status, "by": by, "now": now, "id": plan_id})


def set_tasks(conn: Conn, plan_id: int, task_ids: str) -> None:
    """The plan's tasks (``task_ids``: a JSON list)."""
    conn.execute(SET_TASKS, {"task_ids": task_ids, "id": plan_id})


def plan_of(row: Row) -> Plan:
    """The plan a ``plans`` row holds."""
    document = json.loads(row["plan"])
    return Plan(
        id=row["id"],
        goal=row["goal"],
        summary=row["summary"],
        status=row["status"],
        items=tuple(item_from_json(t) for t in document["tasks"]),
        model=row["model"],
        notes=tuple(json.loads(row["notes"])),
        task_ids=tuple(json.loads(row["task_ids"])),
        created_by=row["created_by"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )
