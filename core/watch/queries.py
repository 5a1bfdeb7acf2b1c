"""The watch's statements (``core.watch.stalls``): each agent's watch row (``agent_watch``:
when its screen was first captured and last changed, since when it is watched, the tasks it
was nudged about), and the reads a tick judges on (the active tasks, the open stall alert;
what it reads of deliveries is in ``core.delivery._message_queries``, of the agents' reports in
``core.agents._queries``). Each is one named operation; a tick runs in one write
transaction, so what it reads is what it writes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from core.store.conn import Conn, sql, values

FIRST_SEEN = sql(
    "INSERT INTO agent_watch (agent_id, screen_seen_at) VALUES (:agent, :at) "
    "ON CONFLICT(agent_id) DO UPDATE SET screen_seen_at = excluded.screen_seen_at"
)
KEEP_FIRST_FRAME = sql(
    "INSERT INTO agent_watch (agent_id, screen_seen_at) VALUES (:agent, :at) "
    "ON CONFLICT(agent_id) DO UPDATE SET screen_seen_at = "
    "COALESCE(agent_watch.screen_seen_at, excluded.screen_seen_at)"
)
SCREEN_CHANGED = sql(
    "INSERT INTO agent_watch (agent_id, screen_active_at) VALUES (:agent, :at) "
    "ON CONFLICT(agent_id) DO UPDATE SET screen_active_at = excluded.screen_active_at"
)
STORE_WATCH_CLOCK = sql(
    "INSERT INTO agent_watch (agent_id, watch_since, ticked_at) VALUES (:agent, :since, :now) "
    "ON CONFLICT(agent_id) DO UPDATE SET watch_since = excluded.watch_since, "
    "ticked_at = excluded.ticked_at"
)
COUNT_NUDGE = sql(
    "UPDATE agent_watch SET nudges = nudges + 1, last_nudge_at = :now WHERE agent_id = :agent"
)
SET_WATCHED = sql(
    "INSERT INTO agent_watch (agent_id, watched_tasks) VALUES (:agent, :key) "
    "ON CONFLICT(agent_id) DO UPDATE SET watched_tasks = excluded.watched_tasks, "
    "nudges = 0, last_nudge_at = NULL"
)
TAKEN_BACK = sql(
    "INSERT INTO agent_watch (agent_id, taken_back_at) VALUES (:agent, :at) "
    "ON CONFLICT(agent_id) DO UPDATE SET taken_back_at = excluded.taken_back_at"
)


def first_seen(conn: Conn, agent: str, at: float) -> None:
    """``agent``'s screen was first captured ``at`` (a node's part of the tick: it replaces
    what was stored)."""
    conn.execute(FIRST_SEEN, {"agent": agent, "at": at})


def keep_first_frames(conn: Conn, frames: Mapping[str, float]) -> None:
    """When each screen was first captured, the earliest kept (a restart keeps it)."""
    conn.executemany(KEEP_FIRST_FRAME, [{"agent": agent, "at": at} for agent, at in frames.items()])


def screen_changed(conn: Conn, agent: str, at: float) -> None:
    """``agent``'s screen changed ``at`` (not by our own paste)."""
    conn.execute(SCREEN_CHANGED, {"agent": agent, "at": at})


def watch_clocks(conn: Conn) -> dict[str, tuple[float | None, float | None]]:
    """agent -> (since when it is watched, the last tick that watched it), as stored."""
    return {
        r["agent_id"]: (r["watch_since"], r["ticked_at"])
        for r in conn.execute("SELECT agent_id, watch_since, ticked_at FROM agent_watch")
    }


def store_watch_clocks(conn: Conn, starts: Mapping[str, float], now: float) -> None:
    """Each agent watched since its start in ``starts``, ticked ``now``."""
    conn.executemany(
        STORE_WATCH_CLOCK,
        [{"agent": agent, "since": began, "now": now} for agent, began in starts.items()],
    )


SCREEN_TIMES = sql("SELECT agent_id, screen_seen_at, screen_active_at FROM agent_watch")
WATCH_ROWS = sql(
    "SELECT agent_id, screen_active_at, watched_tasks, nudges, last_nudge_at, "
    "screen_seen_at, resumed_at FROM agent_watch"
)


class ScreenTimes(NamedTuple):
    """An agent's screen: when its first frame was seen and its last change (None: none)."""

    agent: str
    seen_at: float | None
    active_at: float | None


def screen_times(conn: Conn) -> list[ScreenTimes]:
    """Each watch row's agent, first frame and last change."""
    return [ScreenTimes(*values(row)) for row in conn.execute(SCREEN_TIMES)]


@dataclass(frozen=True)
class WatchRow:
    """What the watch keeps of an agent: its screen's times, the tasks its nudges were
    about and how many, when it resumed."""

    agent_id: str
    screen_active_at: float | None
    watched_tasks: str | None
    nudges: int
    last_nudge_at: float | None
    screen_seen_at: float | None
    resumed_at: float | None


def watch_rows(conn: Conn) -> dict[str, WatchRow]:
    """agent -> what the watch keeps of it."""
    found = (WatchRow(*values(row)) for row in conn.execute(WATCH_ROWS))
    return {row.agent_id: row for row in found}


def count_nudge(conn: Conn, agent: str, now: float) -> None:
    """One more nudge of ``agent``, now."""
    conn.execute(COUNT_NUDGE, {"now": now, "agent": agent})


def set_watched(conn: Conn, agent: str, key: str | None) -> None:
    """``agent`` is watched about the tasks ``key`` (None: none), its nudges from zero."""
    conn.execute(SET_WATCHED, {"agent": agent, "key": key})


def taken_back(conn: Conn, agent: str, at: float) -> None:
    """The stall rules took ``agent``'s tasks back at ``at`` (``assignment.free_agents``
    gives it none while it still shows the frozen turn)."""
    conn.execute(TAKEN_BACK, {"agent": agent, "at": at})
