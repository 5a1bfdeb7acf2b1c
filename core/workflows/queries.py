"""The statements of campaigns (``core.workflows.campaigns``): a campaign stored, read,
listed and cancelled (what campaigns and runs do to tasks is ``core.tasks.campaign_queries``').
Each is one named operation; a campaign's row is held (``row_locks.hold``) by the caller
before its end is decided.
"""

from __future__ import annotations

from core.store.conn import Conn, Row


def insert_campaign(
    conn: Conn, title: str, workflow: str | None, variables: str | None, by: str, now: float
) -> int:
    """Store a new open campaign (``variables``: its workflow's values as JSON); its id."""
    cur = conn.execute(
        "INSERT INTO campaigns (title, workflow, vars, created_by, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        (title, workflow, variables, by, now, now),
    )
    return int(cur.fetchone()["id"])


def campaign_row(conn: Conn, campaign_id: int) -> Row | None:
    """The campaign's row, every column, or None."""
    found: Row | None = conn.execute(
        "SELECT * FROM campaigns WHERE id = $1", (campaign_id,)
    ).fetchone()
    return found


def newest_ids(conn: Conn, limit: int) -> list[int]:
    """The ids of the newest ``limit`` campaigns, newest first."""
    return [
        r["id"]
        for r in conn.execute("SELECT id FROM campaigns ORDER BY id DESC LIMIT $1", (limit,))
    ]


def mark_cancelled(conn: Conn, campaign_id: int, now: float) -> None:
    """The campaign cancelled now (before its tasks are: it never "finishes")."""
    conn.execute(
        "UPDATE campaigns SET status = 'cancelled', cancelled_at = $1, updated_at = $2 "
        "WHERE id = $3",
        (now, now, campaign_id),
    )
