"""Rows of ``review_comments``: comments on lines of a task's diff, pending until sent.

Each function is a function of a connection (one transaction). A comment's ``path`` and
``line`` (the new side's line number) are both None for a comment on the whole task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.errors import NotFound
from core.store.conn import Conn, in_list, listed, sql, sql_pair, values

_COLUMNS = (
    "id, task_id, path, line, line_text, body, author, created_at, updated_at, sent_at, message_id"
)
ADD = sql(
    "INSERT INTO review_comments (task_id, path, line, line_text, body, author, "
    "created_at, updated_at) VALUES (:task_id, :path, :line, :line_text, :body, :author, "
    ":now, :now) RETURNING id"
)
PENDING = sql(
    f"SELECT {_COLUMNS} FROM review_comments WHERE task_id = :task_id AND sent_at IS NULL "
    "ORDER BY COALESCE(path, ''), COALESCE(line, 0), id"
)
COMMENT = sql(f"SELECT {_COLUMNS} FROM review_comments WHERE id = :id AND task_id = :task_id")
UPDATE = sql("UPDATE review_comments SET body = :body, updated_at = :now WHERE id = :id")
DELETE = sql("DELETE FROM review_comments WHERE id = :id")
COMMENT_ROWS = sql_pair(
    "SELECT path, line, body FROM review_comments WHERE id {ids} "
    "ORDER BY COALESCE(path, ''), COALESCE(line, 0), id",
    ids=in_list("ids", "BIGINT"),
)
MARK_SENT = sql(
    "UPDATE review_comments SET sent_at = :now, message_id = :message_id WHERE id = :id"
)


@dataclass(frozen=True)
class ReviewComment:
    """One comment of a review: where (``path:line``, the line's text) and what."""

    id: int
    task_id: int
    path: str | None
    line: int | None
    line_text: str | None
    body: str
    author: str
    created_at: float
    updated_at: float
    sent_at: float | None = None
    message_id: int | None = None

    @property
    def where(self) -> str:
        """``path:line``, or ``the whole task``."""
        return f"{self.path}:{self.line}" if self.path is not None else "the whole task"

    def to_json(self) -> dict[str, Any]:
        """The API's and ``--json``'s shape."""
        return {
            "id": self.id,
            "task": f"T-{self.task_id}",
            "path": self.path,
            "line": self.line,
            "line_text": self.line_text,
            "text": self.body,
            "author": self.author,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "sent_at": self.sent_at,
        }


@dataclass(frozen=True)
class NewComment:
    """A comment as checked, before it is stored."""

    path: str | None
    line: int | None
    line_text: str | None
    body: str


def add(conn: Conn, task_id: int, new: NewComment, author: str, now: float) -> int:
    """Store a pending comment; its id."""
    cur = conn.execute(
        ADD,
        {
            "task_id": task_id,
            "path": new.path,
            "line": new.line,
            "line_text": new.line_text,
            "body": new.body,
            "author": author,
            "now": now,
        },
    )
    return int(cur.fetchone()["id"])


def pending(conn: Conn, task_id: int) -> list[ReviewComment]:
    """The task's comments not sent yet, by file, line, then age (whole-task ones first)."""
    rows = conn.execute(PENDING, {"task_id": task_id})
    return [ReviewComment(*values(row)) for row in rows]


def get_pending(conn: Conn, task_id: int, comment_id: int) -> ReviewComment:
    """One pending comment of the task; NotFound when there is none (or it was sent)."""
    row = conn.execute(COMMENT, {"id": comment_id, "task_id": task_id}).fetchone()
    if row is None:
        raise NotFound(f"T-{task_id} has no review comment {comment_id}")
    found = ReviewComment(*values(row))
    if found.sent_at is not None:
        raise NotFound(f"review comment {comment_id} of T-{task_id} was already sent")
    return found


def update(conn: Conn, task_id: int, comment_id: int, body: str, now: float) -> ReviewComment:
    """Change a pending comment's text; the comment as it is now."""
    get_pending(conn, task_id, comment_id)
    conn.execute(UPDATE, {"body": body, "now": now, "id": comment_id})
    return get_pending(conn, task_id, comment_id)


def delete(conn: Conn, task_id: int, comment_id: int) -> None:
    """Remove a pending comment."""
    get_pending(conn, task_id, comment_id)
    conn.execute(DELETE, {"id": comment_id})


def mark_sent(conn: Conn, ids: list[int], now: float, message_id: int) -> None:
    """The comments ``ids`` went to the agent in message ``message_id``."""
    conn.executemany(MARK_SENT, [{"now": now, "message_id": message_id, "id": i} for i in ids])


class CommentRow(NamedTuple):
    """A review comment: on a file's line, a file, or the whole change."""

    path: str | None
    line: int | None
    body: str


def comment_rows(conn: Conn, ids: Sequence[int]) -> list[CommentRow]:
    """The comments ``ids``, by path, line and id."""
    found = conn.execute(COMMENT_ROWS.on(conn), {"ids": listed(ids)})
    return [CommentRow(row["path"], row["line"], str(row["body"])) for row in found]
