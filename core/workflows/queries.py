"""The statements of campaigns (``core.workflows.campaigns``): a campaign stored, read,
listed and cancelled (what campaigns and runs do to tasks is ``core.tasks._campaign_queries``').
Each is one named operation; a campaign's row is held (``row_locks.hold``) by the caller
before its end is decided.
"""

from __future__ import annotations

from typing import NamedTuple

from core.store.conn import Conn, Row, sql

INSERT = sql(
    "INSERT INTO campaigns (title, workflow, vars, created_by, created_at, updated_at) "
    "VALUES (:title, :workflow, :vars, :by, :now, :now) RETURNING id"
)
CAMPAIGN = sql("SELECT * FROM campaigns WHERE id = :id")
NEWEST_IDS = sql("SELECT id FROM campaigns ORDER BY id DESC LIMIT :limit")
CANCEL = sql(
    "UPDATE campaigns SET status = 'cancelled', cancelled_at = :now, updated_at = :now "
    "WHERE id = :id"
)


def insert_campaign(
    conn: Conn, title: str, workflow: str | None, variables: str | None, by: str, now: float
) -> int:
    """Store a new open campaign (``variables``: its workflow's values as JSON); its id."""
    cur = conn.execute(
        INSERT, {"title": title, "workflow": workflow, "vars": variables, "by": by, "now": now}
    )
    return int(cur.fetchone()["id"])


class CampaignRow(NamedTuple):
    """A stored campaign (``vars``: its workflow's variables as JSON, or None)."""

    id: int
    title: str
    status: str
    workflow: str | None
    vars: str | None
    created_by: str
    created_at: float
    cancelled_at: float | None


def campaign_row(conn: Conn, campaign_id: int) -> CampaignRow | None:
    """The campaign, or None."""
    found: Row | None = conn.execute(CAMPAIGN, {"id": campaign_id}).fetchone()
    return None if found is None else CampaignRow(*(found[f] for f in CampaignRow._fields))


def newest_ids(conn: Conn, limit: int) -> list[int]:
    """The ids of the newest ``limit`` campaigns, newest first."""
    return [r["id"] for r in conn.execute(NEWEST_IDS, {"limit": limit})]


def mark_cancelled(conn: Conn, campaign_id: int, now: float) -> None:
    """The campaign cancelled now (before its tasks are: it never "finishes")."""
    conn.execute(CANCEL, {"now": now, "id": campaign_id})
