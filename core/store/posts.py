"""Where a front end's live posts are: one message (and thread) per task or message.

The Discord notifier edits a task's message in place as its state changes; the ids it needs
after a restart live in the ``posts`` table, saved in the same transaction as its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.store.conn import Conn
from core.store.tables import set_cursor


@dataclass(frozen=True)
class Post:
    """A live post: ``key`` is ``task:3``, ``message:5`` or ``campaign:2``; ``shown`` what
    it shows now; ``channel_id`` where it is when not in the notifier's channel."""

    key: str
    message_id: int
    thread_id: int | None = None
    note: str | None = None
    shown: str | None = None
    channel_id: int | None = None


@dataclass(frozen=True)
class Progress:
    """How far a message's deliveries have got."""

    delivered: int
    failed: int
    total: int


def get_post(conn: Conn, key: str) -> Post | None:
    """The post stored under ``key``, if any."""
    row = conn.execute(
        "SELECT key, message_id, thread_id, note, shown, channel_id FROM posts WHERE key = $1",
        (key,),
    ).fetchone()
    if row is None:
        return None
    return Post(
        row["key"],
        int(row["message_id"]),
        row["thread_id"],
        row["note"],
        row["shown"],
        row["channel_id"],
    )


def keep_post(conn: Conn, post: Post) -> None:
    """Store ``post`` (replacing the one under its key)."""
    conn.execute(
        "INSERT INTO posts (key, message_id, thread_id, note, shown, channel_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(key) DO UPDATE SET "
        "message_id = excluded.message_id, thread_id = excluded.thread_id, "
        "note = excluded.note, shown = excluded.shown, channel_id = excluded.channel_id",
        (post.key, post.message_id, post.thread_id, post.note, post.shown, post.channel_id),
    )


def drop_post(conn: Conn, key: str) -> None:
    """Forget the post under ``key`` (its message is gone)."""
    conn.execute("DELETE FROM posts WHERE key = $1", (key,))


def save_post(conn: Conn, post: Post, consumer: str, cursor: int) -> None:
    """Store ``post`` and advance ``consumer``'s cursor (one transaction: the caller's)."""
    keep_post(conn, post)
    set_cursor(conn, consumer, cursor)


def task_of_thread(conn: Conn, channel_id: int) -> int | None:
    """The task whose thread (or message) has this id, if any."""
    row = conn.execute(
        "SELECT key FROM posts WHERE key LIKE 'task:%' AND (thread_id = $1 OR message_id = $2)",
        (channel_id, channel_id),
    ).fetchone()
    return int(row["key"].removeprefix("task:")) if row else None


def message_progress(conn: Conn, message_id: int) -> Progress:
    """Delivered, failed and total deliveries of one message."""
    row = conn.execute(
        "SELECT COUNT(*) FILTER (WHERE state = 'delivered') AS delivered, "
        "COUNT(*) FILTER (WHERE state = 'failed') AS failed, "
        "COUNT(*) AS total FROM deliveries WHERE message_id = $1",
        (message_id,),
    ).fetchone()
    return Progress(int(row["delivered"]), int(row["failed"]), int(row["total"]))
