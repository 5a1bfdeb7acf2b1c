"""A protocol agent's transcript as the front ends read it: its rows of ``agent_transcript``
(written by ``core.agents._transcriber`` as its host's journal is taken in), a page at a time.
No wire model is imported here: a ``swarm`` command that reads a card's status line does not
import the host wire."""

from __future__ import annotations

from core.agents import _transcript_queries as queries
from core.agents._transcript_rows import (
    PERMISSION,
    RETRY,
    TEXT_MAX,
    TOOL,
    Line,
    shown_text,
    status_line,
)
from core.store.conn import Conn

__all__ = [  # a row and its words (core.agents._transcript_rows), as callers know them
    "PERMISSION", "RETRY", "TEXT_MAX", "TOOL", "Line", "shown_text", "status_line",
]  # fmt: skip

PAGE = 500  # rows one read gives


def after(conn: Conn, agent: str, rev: int, limit: int = PAGE) -> list[Line]:
    """``agent``'s rows written or changed after ``rev`` (the live stream)."""
    return queries.after(conn, agent, rev, limit)


def newest(conn: Conn, agent: str, limit: int = PAGE) -> list[Line]:
    """``agent``'s newest ``limit`` rows, oldest first (the agent's page)."""
    return list(reversed(queries.newest(conn, agent, limit)))


def of_task(conn: Conn, task_id: int, limit: int = PAGE * 4) -> list[Line]:
    """The rows of a task's turns, in order (the task's page)."""
    return queries.of_task(conn, task_id, limit)


def activity(conn: Conn) -> dict[int, Line]:
    """task -> its holder's newest row, for each task in progress whose holder's newest row
    is of it (the Discord card's status line)."""
    found = queries.latest_of_tasks_in_progress(conn)
    return {line.task_id: line for line in found if line.task_id is not None}
