"""Where a front end's live posts are: one message (and thread) per task or message.

The notifier (``core/coordinator/notifier.py``) edits a task's message in place as its state
changes; the ids it needs after a restart (the front end's, as strings) live in the ``posts``
table, saved in the same transaction as its cursor (``event_cursors``, one row per loop, named
by its front end: ``discord``, ``discord:urgent``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.agents import clear_alert, open_alert
from core.context import Ctx
from core.delivery import queries as delivery_queries
from core.event_kinds import EventKind
from core.formats.jsonshape import iso_utc
from core.history.events import EventFilter, find_events
from core.models import Event, task_ref
from core.store.conn import Conn, sql
from core.store.tables import insert_event

POST = sql(
    "SELECT key, message_id, thread_id, note, shown, channel_id FROM posts "
    "WHERE front_end = :front_end AND key = :key"
)
KEEP_POST = sql(
    "INSERT INTO posts (front_end, key, message_id, thread_id, note, shown, channel_id) "
    "VALUES (:front_end, :key, :message_id, :thread_id, :note, :shown, :channel_id) "
    "ON CONFLICT(front_end, key) DO UPDATE SET "
    "message_id = excluded.message_id, thread_id = excluded.thread_id, "
    "note = excluded.note, shown = excluded.shown, channel_id = excluded.channel_id"
)
DROP_POST = sql("DELETE FROM posts WHERE front_end = :front_end AND key = :key")
CURSOR = sql("SELECT last_id FROM event_cursors WHERE consumer = :consumer")
SET_CURSOR = sql(
    "INSERT INTO event_cursors (consumer, last_id) VALUES (:consumer, :last_id) "
    "ON CONFLICT(consumer) DO UPDATE SET "
    "last_id = CASE WHEN excluded.last_id > event_cursors.last_id "
    "THEN excluded.last_id ELSE event_cursors.last_id END"
)
TASK_OF_THREAD = sql(
    "SELECT key FROM posts WHERE front_end = :front_end AND key LIKE 'task:%' "
    "AND (thread_id = :channel_id OR message_id = :channel_id)"
)
LOOP = sql("SELECT * FROM event_cursors WHERE consumer = :consumer")
ADD_LOOP = sql(
    "INSERT INTO event_cursors (consumer, last_id) VALUES (:consumer, 0) "
    "ON CONFLICT(consumer) DO NOTHING"
)
# a loop's count of each way it failed, one statement each
COUNT = {
    column: sql(
        f"UPDATE event_cursors SET {column} = {column} + 1, last_error = :error, "
        "last_error_at = :now WHERE consumer = :consumer"
    )
    for column in ("retried", "skipped", "reposted")
}


@dataclass(frozen=True)
class Post:
    """A live post: ``key`` is ``task:3``, ``message:5`` or ``campaign:2``; ``shown`` what
    it shows now; ``channel_id`` where it is when not in the notifier's channel. The ids are
    the front end's, as strings (Discord's snowflakes in decimal)."""

    key: str
    message_id: str
    thread_id: str | None = None
    note: str | None = None
    shown: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class Progress:
    """How far a message's deliveries have got."""

    delivered: int
    failed: int
    total: int


def get_post(conn: Conn, front_end: str, key: str) -> Post | None:
    """The post ``front_end`` stored under ``key``, if any."""
    row = conn.execute(POST, {"front_end": front_end, "key": key}).fetchone()
    if row is None:
        return None
    return Post(
        row["key"],
        row["message_id"],
        row["thread_id"],
        row["note"],
        row["shown"],
        row["channel_id"],
    )


def keep_post(conn: Conn, front_end: str, post: Post) -> None:
    """Store ``front_end``'s ``post`` (replacing the one under its key)."""
    conn.execute(
        KEEP_POST,
        {
            "front_end": front_end,
            "key": post.key,
            "message_id": post.message_id,
            "thread_id": post.thread_id,
            "note": post.note,
            "shown": post.shown,
            "channel_id": post.channel_id,
        },
    )


def drop_post(conn: Conn, front_end: str, key: str) -> None:
    """Forget ``front_end``'s post under ``key`` (its message is gone)."""
    conn.execute(DROP_POST, {"front_end": front_end, "key": key})


def get_cursor(conn: Conn, consumer: str) -> int:
    """Last handled event id of a consumer (0 when new)."""
    row = conn.execute(CURSOR, {"consumer": consumer})
    found = row.fetchone()
    return int(found["last_id"]) if found else 0


def set_cursor(conn: Conn, consumer: str, event_id: int) -> None:
    """Store a consumer's last handled event id (never moved back)."""
    conn.execute(SET_CURSOR, {"consumer": consumer, "last_id": event_id})


def save_post(conn: Conn, post: Post, consumer: str, cursor: int) -> None:
    """Store ``post`` of the loop ``consumer``'s front end and advance its cursor (one
    transaction: the caller's)."""
    keep_post(conn, front_end_of(consumer), post)
    set_cursor(conn, consumer, cursor)


def task_of_thread(conn: Conn, front_end: str, channel_id: str) -> int | None:
    """The task whose thread (or message) on ``front_end`` has this id, if any."""
    row = conn.execute(
        TASK_OF_THREAD, {"front_end": front_end, "channel_id": channel_id}
    ).fetchone()
    return int(row["key"].removeprefix("task:")) if row else None


def front_end_of(consumer: str) -> str:
    """The front end of a notifier loop: ``discord`` for ``discord`` and ``discord:urgent``."""
    return consumer.partition(":")[0]


def message_progress(conn: Conn, message_id: int) -> Progress:
    """Delivered, failed and total deliveries of one message."""
    row = delivery_queries.message_counts(conn, message_id)
    return Progress(int(row.delivered), int(row.failed), int(row.total))


# -- the notifier's failures, per loop (its consumer's row in event_cursors) -----------------

POST_FAILED = "post_failed"  # the alert kind of a loop whose post its front end refused for good


@dataclass(frozen=True)
class LoopHealth:
    """How one notifier loop is doing: ``behind_s``, the age of the oldest event it has not
    handled yet (0 when it has caught up); failures tried again, posts skipped (refused for
    good) and live messages posted anew (theirs was gone); the last failure."""

    consumer: str
    cursor: int
    behind_s: float
    retried: int
    skipped: int
    reposted: int
    last_error: str | None
    last_error_at: float | None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``swarm status --json``."""
        return {
            "loop": self.consumer,
            "cursor": self.cursor,
            "behind_s": round(self.behind_s, 1),
            "retried": self.retried,
            "skipped": self.skipped,
            "reposted": self.reposted,
            "last_error": self.last_error,
            "last_error_at": iso_utc(self.last_error_at) if self.last_error_at else None,
        }


def loop_names(conn: Conn) -> list[str]:
    """The consumers that keep a cursor over the events: the notifier's loops, by name."""
    rows = conn.execute("SELECT consumer FROM event_cursors ORDER BY consumer").fetchall()
    return [row["consumer"] for row in rows]


def loop_health(
    conn: Conn, consumer: str, kinds: tuple[str, ...], now: float, fallback: int = 0
) -> LoopHealth | None:
    """``consumer``'s health, reading the events of ``kinds`` (all: empty) after its cursor
    (``fallback`` while it has none); None when it never ran."""
    row = conn.execute(LOOP, {"consumer": consumer}).fetchone()
    if row is None and not fallback:
        return None
    cursor = (int(row["last_id"]) if row else 0) or fallback
    oldest = find_events(conn, EventFilter(kinds=kinds), after_id=cursor, limit=1)
    return LoopHealth(
        consumer,
        cursor,
        max(0.0, now - oldest[0].ts) if oldest else 0.0,
        int(row["retried"]) if row else 0,
        int(row["skipped"]) if row else 0,
        int(row["reposted"]) if row else 0,
        row["last_error"] if row else None,
        row["last_error_at"] if row else None,
    )


def note_retry(conn: Conn, ctx: Ctx, consumer: str, error: str) -> None:
    """A failure the loop tries again (its front end down, a lost connection): counted, kept."""
    _count(conn, ctx, consumer, "retried", error)


def note_reposted(conn: Conn, ctx: Ctx, consumer: str, key: str, event: Event, error: str) -> None:
    """The live post under ``key`` is gone (or refused for good): forgotten, to be posted
    anew; counted and written as a ``post.reposted`` event."""
    drop_post(conn, front_end_of(consumer), key)
    _count(conn, ctx, consumer, "reposted", error)
    text = f"{front_name(consumer)}: {post_name(key)} was gone: {error}; posted anew"
    insert_event(
        conn,
        ctx.now,
        EventKind.POST_REPOSTED,
        text,
        task_id=event.task_id,
        actor=ctx.actor,
        data={"loop": consumer, "post": key, "event": event.id, "error": error},
    )


def note_skipped(conn: Conn, ctx: Ctx, consumer: str, event: Event, error: str) -> bool:
    """The front end refused the post of ``event`` for good: the loop moves past it, counted,
    written as a ``post.failed`` event, and the loop's alert opened (True when it
    was opened now)."""
    set_cursor(conn, consumer, event.id)
    _count(conn, ctx, consumer, "skipped", error)
    text = f"{front_name(consumer)} refused the post of {_what(event)} for good: {error}; skipped"
    data = {"loop": consumer, "event": event.id, "kind": event.kind, "error": error}
    insert_event(
        conn,
        ctx.now,
        EventKind.POST_FAILED,
        text,
        task_id=event.task_id,
        actor=ctx.actor,
        data=data,
    )
    return open_alert(conn, ctx, consumer, POST_FAILED, text, event.task_id)


def posts_get_through(conn: Conn, ctx: Ctx, consumer: str) -> bool:
    """Clear the loop's alert, if open: its posts get through again."""
    text = f"{front_name(consumer)} takes the posts again"
    return clear_alert(conn, ctx, consumer, POST_FAILED, text)


def front_name(consumer: str) -> str:
    """``Discord`` for the loops ``discord`` and ``discord:urgent``: their front end."""
    return front_end_of(consumer).capitalize()


def post_name(key: str) -> str:
    """``T-3's card`` for the post under ``task:3`` (the key itself when unknown)."""
    kind, _, number = key.partition(":")
    names = {
        "task": f"T-{number}'s card",
        "prompt": f"R-{number}'s post",
        "github-ci": f"T-{number}'s CI post",
        "message": f"the line of message {number}",
    }
    return names.get(kind, key)


def _what(event: Event) -> str:
    ref = f", {task_ref(event.task_id)}" if event.task_id is not None else ""
    return f"event {event.id} ({event.kind}{ref})"


def _count(conn: Conn, ctx: Ctx, consumer: str, column: str, error: str) -> None:
    conn.execute(ADD_LOOP, {"consumer": consumer})
    conn.execute(COUNT[column], {"error": error, "now": ctx.now, "consumer": consumer})
