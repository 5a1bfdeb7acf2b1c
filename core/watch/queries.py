"""The watch's statements (``core.watch.stalls``): each agent's watch row (``agent_watch``:
when its screen was first captured and last changed, since when it is watched, the tasks it
was nudged about), and the reads a tick judges on (the active tasks, reports, the prompt's
delivery, the last deliveries, the open stall alert). Each is one named operation; a tick runs
in one write transaction, so what it reads is what it writes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.store.conn import Conn, values


def first_seen(conn: Conn, agent: str, at: float) -> None:
    """``agent``'s screen was first captured ``at`` (a node's part of the tick: it replaces
    what was stored)."""
    conn.execute(
        "INSERT INTO agent_watch (agent_id, screen_seen_at) VALUES ($1, $2) "
        "ON CONFLICT(agent_id) DO UPDATE SET screen_seen_at = "
        "excluded.screen_seen_at",
        (agent, at),
    )


def keep_first_frames(conn: Conn, frames: Mapping[str, float]) -> None:
    """When each screen was first captured, the earliest kept (a restart keeps it)."""
    conn.executemany(
        "INSERT INTO agent_watch (agent_id, screen_seen_at) VALUES ($1, $2) "
        "ON CONFLICT(agent_id) DO UPDATE SET screen_seen_at = "
        "COALESCE(agent_watch.screen_seen_at, excluded.screen_seen_at)",
        list(frames.items()),
    )


def screen_changed(conn: Conn, agent: str, at: float) -> None:
    """``agent``'s screen changed ``at`` (not by our own paste)."""
    conn.execute(
        "INSERT INTO agent_watch (agent_id, screen_active_at) VALUES ($1, $2) "
        "ON CONFLICT(agent_id) DO UPDATE SET screen_active_at = "
        "excluded.screen_active_at",
        (agent, at),
    )


def last_paste(conn: Conn, agent: str) -> Any:
    """The latest delivery to ``agent`` being made or made (``state``, ``updated_at``), or
    None."""
    return conn.execute(
        "SELECT state, updated_at FROM deliveries WHERE agent_id = $1 AND state "
        "IN ('delivering', 'delivered') ORDER BY id DESC LIMIT 1",
        (agent,),
    ).fetchone()


def watch_clocks(conn: Conn) -> dict[str, tuple[float | None, float | None]]:
    """agent -> (since when it is watched, the last tick that watched it), as stored."""
    return {
        r["agent_id"]: (r["watch_since"], r["ticked_at"])
        for r in conn.execute("SELECT agent_id, watch_since, ticked_at FROM agent_watch")
    }


def store_watch_clocks(conn: Conn, starts: Mapping[str, float], now: float) -> None:
    """Each agent watched since its start in ``starts``, ticked ``now``."""
    conn.executemany(
        "INSERT INTO agent_watch (agent_id, watch_since, ticked_at) VALUES ($1, $2, $3) "
        "ON CONFLICT(agent_id) DO UPDATE SET watch_since = excluded.watch_since, "
        "ticked_at = excluded.ticked_at",
        [(agent, began, now) for agent, began in starts.items()],
    )


def screen_times(conn: Conn) -> Iterable[tuple[Any, ...]]:
    """Each watch row's (agent, first frame, last change)."""
    rows = conn.execute("SELECT agent_id, screen_seen_at, screen_active_at FROM agent_watch")
    return map(values, rows)


def active_tasks(conn: Conn) -> Iterable[tuple[Any, ...]]:
    """Each assigned or in-progress task's (id, assignee, assigned_at, attempts,
    max_attempts), by id."""
    return map(
        values,
        conn.execute(
            "SELECT id, assignee, assigned_at, attempts, max_attempts FROM tasks "
            "WHERE status IN ('assigned', 'in_progress') ORDER BY id"
        ),
    )


def watch_rows(conn: Conn) -> dict[str, Any]:
    """agent -> its watch row (``screen_active_at``, ``watched_tasks``, ``nudges``,
    ``last_nudge_at``, ``screen_seen_at``, ``resumed_at``)."""
    return {
        r["agent_id"]: r
        for r in conn.execute(
            "SELECT agent_id, screen_active_at, watched_tasks, "
            "nudges, last_nudge_at, screen_seen_at, resumed_at "
            "FROM agent_watch"
        )
    }


def last_reports(conn: Conn) -> dict[str, float | None]:
    """agent -> when it last reported through the CLI."""
    return dict(map(values, conn.execute("SELECT id, last_report_at FROM agent_state")))


def prompt_delivered_at(conn: Conn, agent: str) -> float:
    """When the prompt of a task the agent holds reached it (0 when none did yet): the first
    delivery of the task's messages made since its assignment, the latest over its tasks.
    Nudges, answers and other messages swarm sends later are not the agent's activity."""
    row = conn.execute(
        "SELECT max(first_at) AS first_at FROM (SELECT min(d.updated_at) AS first_at FROM tasks t "
        "JOIN messages m ON m.task_id = t.id AND m.created_at >= t.assigned_at "
        "JOIN deliveries d ON d.message_id = m.id AND d.agent_id = t.assignee "
        "WHERE t.assignee = $1 AND t.status IN ('assigned', 'in_progress') "
        "AND d.state = 'delivered' GROUP BY t.id) AS firsts",
        (agent,),
    ).fetchone()
    return float(row["first_at"]) if row and row["first_at"] is not None else 0.0


def open_alert_text(conn: Conn, agent: str, kind: str) -> str | None:
    """The text of ``agent``'s open alert of ``kind``, or None."""
    row = conn.execute(
        "SELECT text FROM alerts WHERE agent_id = $1 AND kind = $2 AND cleared_at IS NULL",
        (agent, kind),
    ).fetchone()
    return None if row is None else str(row["text"])


def count_nudge(conn: Conn, agent: str, now: float) -> None:
    """One more nudge of ``agent``, now."""
    conn.execute(
        "UPDATE agent_watch SET nudges = nudges + 1, last_nudge_at = $1 WHERE agent_id = $2",
        (now, agent),
    )


def set_watched(conn: Conn, agent: str, key: str | None) -> None:
    """``agent`` is watched about the tasks ``key`` (None: none), its nudges from zero."""
    conn.execute(
        "INSERT INTO agent_watch (agent_id, watched_tasks) VALUES ($1, $2) "
        "ON CONFLICT(agent_id) DO UPDATE SET watched_tasks = excluded.watched_tasks, "
        "nudges = 0, last_nudge_at = NULL",
        (agent, key),
    )


def taken_back(conn: Conn, agent: str, at: float) -> None:
    """The stall rules took ``agent``'s tasks back at ``at`` (``assignment.free_agents``
    gives it none while it still shows the frozen turn)."""
    conn.execute(
        "INSERT INTO agent_watch (agent_id, taken_back_at) VALUES ($1, $2) "
        "ON CONFLICT(agent_id) DO UPDATE SET taken_back_at = excluded.taken_back_at",
        (agent, at),
    )


def last_finished_deliveries(conn: Conn, agent: str, count: int) -> list[Any]:
    """The last ``count`` deliveries to ``agent`` delivered or failed (``state``,
    ``reason``), newest first; superseded ones left out."""
    rows: list[Any] = conn.execute(
        "SELECT state, reason FROM deliveries WHERE agent_id = $1 AND state IN ('delivered', "
        "'failed') AND COALESCE(reason, '') != 'superseded' ORDER BY id DESC LIMIT $2",
        (agent, count),
    ).fetchall()
    return rows


def last_delivered(conn: Conn, agent: str) -> tuple[float, float] | None:
    """The latest delivery that reached ``agent``: when it was queued and when it arrived."""
    row = conn.execute(
        "SELECT created_at, updated_at FROM deliveries WHERE agent_id = $1 AND state = "
        "'delivered' ORDER BY id DESC LIMIT 1",
        (agent,),
    ).fetchone()
    return None if row is None else (float(row["created_at"]), float(row["updated_at"]))
