"""A usage limit that names no reset is probed, not waited out: the agent is held
``PROBE_FIRST_S``, and each next delivery to it is a probe; a probe that hits the limit
again doubles the wait, up to ``PROBE_CAP_S`` (or ``SWARM_LIMIT_BACKOFF`` when shorter).
The first turn that goes through clears the count.

The count is read from the agent's state changes (``agent.state`` events, in the store:
it survives a restart): each change to ``limited`` since the last time the agent went from
``working`` to anything but ``limited`` (a turn that went through) is one limit in a row."""

from __future__ import annotations

import json
from typing import Any

from core.agent_state import AgentState
from core.history import event_queries
from core.store.conn import Conn
from core.waits import ErrorBackoff

PROBE_FIRST_S = 30.0  # the first wait of a limit with no reset
PROBE_CAP_S = 300.0  # the longest wait between two probes
CHANGES_READ = 16  # state changes read back: past the cap long before
CHANGES_SINCE_S = 86400.0  # older state changes do not count


def limits_in_a_row(conn: Conn, agent: str, now: float) -> int:
    """How many times ``agent`` became limited before ``now`` since a turn of its last went
    through (the changes of the transaction at ``now`` are left out: where the store writes
    its events at commit, they are not there to read yet)."""
    since = now - CHANGES_SINCE_S
    rows = event_queries.state_changes(conn, agent, since, now, CHANGES_READ)
    count = 0
    for data in map(_data, rows):
        if data.get("to") == AgentState.LIMITED.value:
            count += 1
        elif data.get("from") == AgentState.WORKING.value:
            break  # the agent worked and its turn ended free of a limit
    return count


def failed_probes(conn: Conn, agent: str, now: float, since: float | None) -> int:
    """The limits in a row before the one ``agent`` is in or hits now (``since``: when its
    decided limit began, counted when before ``now``; None: it is not limited yet)."""
    counted = since is not None and since < now
    return max(limits_in_a_row(conn, agent, now) - (1 if counted else 0), 0)


def probe_wait(failed: int, setting_s: float) -> float:
    """The wait before the next probe after ``failed`` failed probes: ``PROBE_FIRST_S``
    doubled per failure, at most ``PROBE_CAP_S`` and ``setting_s`` (SWARM_LIMIT_BACKOFF)."""
    return min(ErrorBackoff(PROBE_FIRST_S, PROBE_CAP_S).delay(failed + 1), setting_s)


def _data(raw: Any) -> dict[str, Any]:
    try:
        found = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
