"""The statements on ``agent_transcript``, the one table a protocol agent's transcript lives in
(``core.agents.transcript`` owns it: every other feature calls its functions). A row changed
takes its agent's next ``rev``: readers ask for an agent's rows after the rev they showed."""

from __future__ import annotations

from typing import Any

from core.store.conn import Conn

COLUMNS = "id, agent, rev, task_id, delivery_id, at, kind, call, status, text"


def last_row(conn: Conn, agent: str) -> Any:
    """``agent``'s newest row (by rev), or None: an answer continued by the next batch."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = $1 ORDER BY rev DESC LIMIT 1",
        (agent,),
    ).fetchone()


def by_call(conn: Conn, agent: str, kind: str, call: str) -> Any:
    """``agent``'s newest row of ``kind`` for the tool call or request ``call``, or None."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = $1 AND call = $2 AND kind = $3 "
        "ORDER BY id DESC LIMIT 1",
        (agent, call, kind),
    ).fetchone()


def last_open_tool(conn: Conn, agent: str) -> Any:
    """``agent``'s newest tool call row not yet finished (an update that names no call)."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = $1 AND kind = 'tool' AND "
        "(status IS NULL OR status NOT IN ('completed', 'failed')) ORDER BY rev DESC LIMIT 1",
        (agent,),
    ).fetchone()


def task_of_delivery(conn: Conn, delivery: int) -> tuple[bool, int | None]:
    """Whether delivery ``delivery`` exists, and the task its message is for (or None)."""
    row = conn.execute(
        "SELECT m.task_id FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = $1",
        (delivery,),
    ).fetchone()
    return (False, None) if row is None else (True, row["task_id"])


def insert(conn: Conn, values: tuple[Any, ...]) -> int:
    """A new row (``COLUMNS`` but ``id``, in order); its id."""
    row = conn.execute(
        "INSERT INTO agent_transcript (agent, rev, task_id, delivery_id, at, kind, call, "
        "status, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        values,
    ).fetchone()
    return int(row["id"])


def update(conn: Conn, row_id: int, rev: int, at: float, status: str | None, text: str) -> None:
    """A row changed (an answer grown, a tool call's status): its new rev, time and words."""
    conn.execute(
        "UPDATE agent_transcript SET rev = $2, at = $3, status = $4, text = $5 WHERE id = $1",
        (row_id, rev, at, status, text),
    )


def rewrite(
    conn: Conn, row_id: int, rev: int, at: float, kind: str, call: str, status: str | None,
    text: str,
) -> None:  # fmt: skip
    """A row given over to another line (a permission request takes its tool call's place)."""
    conn.execute(
        "UPDATE agent_transcript SET rev = $2, at = $3, kind = $4, call = $5, status = $6, "
        "text = $7 WHERE id = $1",
        (row_id, rev, at, kind, call, status, text),
    )


def prune(conn: Conn, agent: str, keep: int) -> int:
    """Delete all but ``agent``'s newest ``keep`` rows; how many went."""
    return int(
        conn.execute(
            "DELETE FROM agent_transcript WHERE agent = $1 AND rev <= (SELECT rev FROM "
            "agent_transcript WHERE agent = $1 ORDER BY rev DESC LIMIT 1 OFFSET $2)",
            (agent, keep),
        ).rowcount
    )


def after(conn: Conn, agent: str, rev: int, limit: int) -> list[Any]:
    """``agent``'s rows written or changed after ``rev``, oldest change first."""
    return list(
        conn.execute(
            f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = $1 AND rev > $2 "
            "ORDER BY rev LIMIT $3",
            (agent, rev, limit),
        )
    )


def newest(conn: Conn, agent: str, limit: int) -> list[Any]:
    """``agent``'s newest ``limit`` rows by rev, newest first."""
    return list(
        conn.execute(
            f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = $1 ORDER BY rev DESC LIMIT $2",
            (agent, limit),
        )
    )


def of_task(conn: Conn, task_id: int, limit: int) -> list[Any]:
    """The rows written while task ``task_id`` was worked on, the first ``limit`` in order."""
    return list(
        conn.execute(
            f"SELECT {COLUMNS} FROM agent_transcript WHERE task_id = $1 ORDER BY id LIMIT $2",
            (task_id, limit),
        )
    )


def latest_of_tasks_in_progress(conn: Conn) -> list[Any]:
    """For each task in progress, its holder's newest row when that row is of the task."""
    return list(
        conn.execute(
            f"SELECT {', '.join('t.' + c for c in COLUMNS.split(', '))} FROM tasks k "
            "JOIN agent_transcript t ON t.agent = k.assignee AND t.task_id = k.id AND t.rev = "
            "(SELECT MAX(rev) FROM agent_transcript WHERE agent = k.assignee) "
            "WHERE k.status = 'in_progress' ORDER BY k.id"
        )
    )
