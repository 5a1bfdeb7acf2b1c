"""Issue 53's day, judged (``bench/day_real.py --defaults``): who reported each task, and how
long each turn that ended without a report stayed silent before swarm nudged its agent.

A task whose details say ``QUIET`` is one the model finishes in words without reporting it
(its first turn ends silent); swarm's nudge ("Your turn ended without reporting T-4 ...") is
answered by a report. For each such task: its turn's end is the model's answer to the last
request of that turn (the model answers at once; each request's own time, from its model
server's record), the nudge is swarm's ``agent.nudged`` event for the task (reason
``turn_end``), the silence the time between. Every task done is checked to be reported by
the agent that held it (its ``task.done`` event's actor), never by the person.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

QUIET = "finish it quietly"  # in a task's details: its first turn ends without a report
QUIET_EVERY = 4  # a task in this many


def _events(url: str, ids: Sequence[int]) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT ts, kind, task_id, agent_id, actor, data FROM events "
            "WHERE kind IN ('agent.nudged', 'task.done') AND task_id = ANY(%s) ORDER BY id",
            (list(ids),),
        ).fetchall()


def figures(
    url: str,
    ids: Sequence[int],
    quiet_ids: Sequence[int],
    turn_ends: Callable[[int], float | None],
    grace_s: float,
) -> dict[str, Any]:
    """The day's reports and silences: ``turn_ends(task)`` is when the model answered the
    last request of the task's silent turn (None: never asked)."""
    events = _events(url, ids)
    done = {e["task_id"]: e for e in events if e["kind"] == "task.done"}
    by_person = sorted(t for t, e in done.items() if e["actor"] != e["agent_id"])
    nudges: dict[int, float] = {}
    for e in events:
        data = json.loads(e["data"]) if isinstance(e["data"], str) else e["data"] or {}
        if e["kind"] == "agent.nudged" and data.get("reason") == "turn_end":
            nudges.setdefault(e["task_id"], e["ts"])
    silences, unnudged = [], []
    for task in quiet_ids:
        ended, nudged = turn_ends(task), nudges.get(task)
        if ended is None or nudged is None:
            unnudged.append(f"T-{task}")
            continue
        silences.append(max(0.0, nudged - ended))
    return {
        "tasks_done_reported_by_their_agent": len(done) - len(by_person),
        "tasks_done_by_someone_else": [f"T-{t}" for t in by_person],
        "silent_turns": len(quiet_ids),
        "silent_turns_nudged": len(silences),
        "silent_turns_not_nudged": unnudged,
        "silence_s": _spread(silences),
        "grace_s": grace_s,
        "silent_longer_than_grace": sum(s > grace_s for s in silences),
        "nudged_tasks_then_reported": sum(1 for t in quiet_ids if t in done and t in nudges),
    }


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }
