"""Counts of the event log (``core.history.events`` holds its filter and its reads)."""

from __future__ import annotations

from core.history.events import EventFilter
from core.store.conn import Args, Conn, values


def count_events(conn: Conn, flt: EventFilter) -> int:
    """How many events match ``flt``."""
    params = Args()
    row = conn.execute(f"SELECT count(*) FROM events WHERE {flt.where(params)}", params).fetchone()
    return int(values(row)[0])
