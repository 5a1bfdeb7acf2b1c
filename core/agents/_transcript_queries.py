"""The statements on ``agent_transcript``, the one table a protocol agent's transcript lives in
(``core.agents._transcript`` owns it: every other feature calls its functions). A row changed
takes its agent's next ``rev``: readers ask for an agent's rows after the rev they showed."""

from __future__ import annotations

from typing import Any

from core.agents._transcript_rows import Line
from core.store.conn import Conn, sql, values
from core.tasks import IN_PROGRESS_HOLDS

COLUMNS = "id, agent, rev, task_id, delivery_id, at, kind, call, status, text"  # ``Line``'s
# a new row's values, in the order ``insert`` takes them
INSERT_COLUMNS = tuple(COLUMNS.split(", ")[1:])

LAST = sql(f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = :agent ORDER BY rev DESC LIMIT 1")
BY_CALL = sql(
    f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = :agent AND call = :call "
    "AND kind = :kind ORDER BY id DESC LIMIT 1"
)
LAST_OPEN_TOOL = sql(
    f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = :agent AND kind = 'tool' AND "
    "(status IS NULL OR status NOT IN ('completed', 'failed')) ORDER BY rev DESC LIMIT 1"
)
INSERT = sql(
    f"INSERT INTO agent_transcript ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in INSERT_COLUMNS)}) RETURNING id"
)
UPDATE = sql(
    "UPDATE agent_transcript SET rev = :rev, at = :at, status = :status, text = :text "
    "WHERE id = :id"
)
REWRITE = sql(
    "UPDATE agent_transcript SET rev = :rev, at = :at, kind = :kind, call = :call, "
    "status = :status, text = :text WHERE id = :id"
)
PRUNE = sql(
    "DELETE FROM agent_transcript WHERE agent = :agent AND rev <= (SELECT rev FROM "
    "agent_transcript WHERE agent = :agent ORDER BY rev DESC LIMIT 1 OFFSET :keep)"
)
AFTER = sql(
    f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = :agent AND rev > :rev "
    "ORDER BY rev LIMIT :limit"
)
NEWEST = sql(
    f"SELECT {COLUMNS} FROM agent_transcript WHERE agent = :agent ORDER BY rev DESC LIMIT :limit"
)
OF_TASK = sql(
    f"SELECT {COLUMNS} FROM agent_transcript WHERE task_id = :task_id ORDER BY id LIMIT :limit"
)

# over core.tasks' tasks in progress (``IN_PROGRESS_HOLDS``)
LATEST_OF_TASKS_IN_PROGRESS = sql(
    f"SELECT {', '.join('t.' + c for c in COLUMNS.split(', '))} FROM ({IN_PROGRESS_HOLDS}) k "
    "JOIN agent_transcript t ON t.agent = k.assignee AND t.task_id = k.id AND t.rev = "
    "(SELECT MAX(rev) FROM agent_transcript WHERE agent = k.assignee) "
    "ORDER BY k.id"
)


def last_row(conn: Conn, agent: str) -> Line | None:
    """``agent``'s newest row (by rev), or None: an answer continued by the next batch."""
    row = conn.execute(LAST, {"agent": agent}).fetchone()
    return None if row is None else Line(*values(row))


def by_call(conn: Conn, agent: str, kind: str, call: str) -> Line | None:
    """``agent``'s newest row of ``kind`` for the tool call or request ``call``, or None."""
    row = conn.execute(BY_CALL, {"agent": agent, "call": call, "kind": kind}).fetchone()
    return None if row is None else Line(*values(row))


def last_open_tool(conn: Conn, agent: str) -> Line | None:
    """``agent``'s newest tool call row not yet finished (an update that names no call)."""
    row = conn.execute(LAST_OPEN_TOOL, {"agent": agent}).fetchone()
    return None if row is None else Line(*values(row))


def insert(conn: Conn, cells: tuple[Any, ...]) -> int:
    """A new row (``COLUMNS`` but ``id``, in order); its id."""
    row = conn.execute(INSERT, dict(zip(INSERT_COLUMNS, cells, strict=True))).fetchone()
    return int(row["id"])


def update(conn: Conn, row_id: int, rev: int, at: float, status: str | None, text: str) -> None:
    """A row changed (an answer grown, a tool call's status): its new rev, time and words."""
    conn.execute(UPDATE, {"id": row_id, "rev": rev, "at": at, "status": status, "text": text})


def rewrite(
    conn: Conn, row_id: int, rev: int, at: float, kind: str, call: str, status: str | None,
    text: str,
) -> None:  # fmt: skip
    """A row given over to another line (a permission request takes its tool call's place)."""
    conn.execute(
        REWRITE,
        {
            "id": row_id,
            "rev": rev,
            "at": at,
            "kind": kind,
            "call": call,
            "status": status,
            "text": text,
        },
    )


def prune(conn: Conn, agent: str, keep: int) -> int:
    """Delete all but ``agent``'s newest ``keep`` rows; how many went."""
    return int(conn.execute(PRUNE, {"agent": agent, "keep": keep}).rowcount)


def after(conn: Conn, agent: str, rev: int, limit: int) -> list[Line]:
    """``agent``'s rows written or changed after ``rev``, oldest change first."""
    return [
        Line(*values(row))
        for row in conn.execute(AFTER, {"agent": agent, "rev": rev, "limit": limit})
    ]


def newest(conn: Conn, agent: str, limit: int) -> list[Line]:
    """``agent``'s newest ``limit`` rows by rev, newest first."""
    return [Line(*values(row)) for row in conn.execute(NEWEST, {"agent": agent, "limit": limit})]


def of_task(conn: Conn, task_id: int, limit: int) -> list[Line]:
    """The rows written while task ``task_id`` was worked on, the first ``limit`` in order."""
    return [
        Line(*values(row)) for row in conn.execute(OF_TASK, {"task_id": task_id, "limit": limit})
    ]


def latest_of_tasks_in_progress(conn: Conn) -> list[Line]:
    """For each task in progress, its holder's newest row when that row is of the task."""
    found = conn.execute(LATEST_OF_TASKS_IN_PROGRESS)
    return [Line(*values(row)) for row in found]
