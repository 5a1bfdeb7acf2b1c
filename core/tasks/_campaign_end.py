"""The ``campaign.finished`` event: recorded once when the last task of an open campaign
reaches a final state (again if a retry reopened it). Kept apart from :mod:`core.workflows`
so that :mod:`core.tasks._lifecycle` can call it."""

from __future__ import annotations

from core.context import Ctx
from core.event_kinds import EventKind
from core.store.conn import Conn, values
from core.store.row_locks import read_held
from core.store.tables import insert_event
from core.tasks import _queries as task_queries

FINAL = ("done", "skipped", "failed", "cancelled")


def note_if_finished(conn: Conn, ctx: Ctx, task_id: int) -> None:
    """After ``task_id`` changed: mark its open campaign finished (with an event) when every
    task of it is final, or not finished any more when one is not."""
    row = task_queries.open_campaign_of(conn, task_id)
    if row is None:
        return
    # the campaign is held before its tasks are counted: the last two tasks ending at once
    # (or a task added as the last one ends) are counted one after the other, the second
    # seeing both (the task row itself is held by whoever changed it)
    row = read_held(conn, "campaigns", "id, title, created_at, finished_at, status", row.id)
    if row is None or row["status"] != "open":
        return
    campaign_id, title, created_at, finished_at = values(row)[:4]
    counts = task_queries.campaign_status_counts(conn, campaign_id)
    final = not set(counts) - set(FINAL)
    if final == (finished_at is not None):
        return
    task_queries.set_campaign_finished(conn, campaign_id, ctx.now if final else None, ctx.now)
    if final:
        took = max(0.0, ctx.now - created_at)
        shown = ", ".join(f"{counts[s]} {s}" for s in FINAL if counts.get(s))
        insert_event(
            conn,
            ctx.now,
            EventKind.CAMPAIGN_FINISHED,
            f"C-{campaign_id} finished: {title} ({shown}; took {took / 60:.0f} min)",
            actor=ctx.actor,
            data={"campaign": f"C-{campaign_id}", "counts": counts, "took_s": round(took, 3)},
        )
