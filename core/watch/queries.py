"""The watch's statements (``core.watch.stalls``): each agent's watch row (``agent_watch``:
when its screen was first captured and last changed, since when it is watched, the tasks it
was nudged about), and the reads a tick judges on (the active tasks, the open stall alert;
what it reads of deliveries is in ``core.tasks.message_queries``, of the agents' reports in
``core.agents.queries``). Each is one named operation; a tick runs in one write
transaction, so what it reads is what it writes on.
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
