"""The statements of ``schedules`` (``core.schedules.recurring``): a schedule stored,
read, changed, removed (the row stays, marked), and taken for one run. Each is one named
operation; a run is taken in a write transaction that reads the row first, so two processes
never run one due schedule twice.
"""

from __future__ import annotations

from core.models import Target
from core.schedules.rows import Schedule, schedule_of
from core.store.conn import Conn, Row, sql

INSERT = sql(
    "INSERT INTO schedules (kind, target_kind, target_name, text, period, cron, every_s, "
    "next_run_at, builtin, created_by, created_at) VALUES (:kind, :target_kind, :target_name, "
    ":text, :period, :cron, :every_s, :first, :builtin, :by, :now) RETURNING id"
)
REMOVE = sql("UPDATE schedules SET enabled = 0, removed_at = :now WHERE id = :id")
SCHEDULE = sql("SELECT * FROM schedules WHERE id = :id AND removed_at IS NULL")
BUILTIN = sql("SELECT * FROM schedules WHERE builtin = :name")
DISABLE = sql("UPDATE schedules SET enabled = 0 WHERE id = :id")
SET_TIMING = sql(
    "UPDATE schedules SET cron = :cron, every_s = :every_s, enabled = 1, next_run_at = :first "
    "WHERE id = :id"
)
ENABLED = sql("SELECT * FROM schedules WHERE id = :id AND enabled = 1 AND removed_at IS NULL")
ALL = sql("SELECT * FROM schedules WHERE removed_at IS NULL ORDER BY id")
RAN = sql(
    "UPDATE schedules SET last_run_at = :now, next_run_at = :following, runs = runs + 1 "
    "WHERE id = :id"
)


def insert(
    conn: Conn,
    *,
    kind: str,
    target: Target | None,
    text: str,
    period: str | None,
    cron: str | None,
    every_s: float | None,
    first: float,
    builtin: str | None,
    by: str,
    now: float,
) -> int:
    """Store a schedule (its cron or its period in seconds, its first run ``first``); its
    id."""
    cur = conn.execute(
        INSERT,
        {
            "kind": kind,
            "target_kind": None if target is None else target.kind.value,
            "target_name": None if target is None else target.name,
            "text": text,
            "period": period,
            "cron": cron,
            "every_s": every_s,
            "first": first,
            "builtin": builtin,
            "by": by,
            "now": now,
        },
    )
    return int(cur.fetchone()["id"])


def remove(conn: Conn, schedule_id: int, now: float) -> None:
    """The schedule stopped for good, removed now (its row stays)."""
    conn.execute(REMOVE, {"now": now, "id": schedule_id})


def row(conn: Conn, schedule_id: int) -> Schedule | None:
    """The schedule, unless it was removed."""
    return _one(conn.execute(SCHEDULE, {"id": schedule_id}).fetchone())


def rows(conn: Conn) -> list[Schedule]:
    """Every schedule not removed, oldest first."""
    return [schedule_of(r) for r in conn.execute(ALL)]


def planned(conn: Conn) -> dict[int, float]:
    """Enabled schedule id -> next run."""
    found = conn.execute(
        "SELECT id, next_run_at FROM schedules WHERE enabled = 1 AND "
        "removed_at IS NULL AND next_run_at IS NOT NULL ORDER BY id"
    )
    return {r["id"]: r["next_run_at"] for r in found}


def next_due(conn: Conn) -> float | None:
    """The earliest next run of an enabled schedule."""
    due = conn.execute(
        "SELECT min(next_run_at) AS due FROM schedules WHERE enabled = 1 AND removed_at IS NULL"
    ).fetchone()
    return None if due["due"] is None else float(due["due"])


def builtin_row(conn: Conn, name: str) -> Schedule | None:
    """The built-in schedule ``name`` (removed or not)."""
    return _one(conn.execute(BUILTIN, {"name": name}).fetchone())


def disable(conn: Conn, schedule_id: int) -> None:
    """The schedule runs no more until enabled again."""
    conn.execute(DISABLE, {"id": schedule_id})


def set_timing(
    conn: Conn, schedule_id: int, cron: str | None, every_s: float | None, first: float
) -> None:
    """The schedule enabled with a new cron or period, next run ``first``."""
    conn.execute(SET_TIMING, {"cron": cron, "every_s": every_s, "first": first, "id": schedule_id})


def enabled_row(conn: Conn, schedule_id: int) -> Schedule | None:
    """The schedule while it is enabled and not removed."""
    return _one(conn.execute(ENABLED, {"id": schedule_id}).fetchone())


def _one(found: Row | None) -> Schedule | None:
    return None if found is None else schedule_of(found)


def ran(conn: Conn, schedule_id: int, now: float, following: float | None) -> None:
    """The schedule ran ``now``; its next run ``following``."""
    conn.execute(RAN, {"now": now, "following": following, "id": schedule_id})
