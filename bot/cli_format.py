"""Plain-text rendering of tasks, agents, events and status for the terminal."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from core.models import Event, Task, task_ref
from core.text import one_line, shorten


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _ago(ts: float | None) -> str:
    if not ts:
        return "never"
    seconds = max(0, int(time.time() - ts))
    if seconds < 90:
        return f"{seconds}s ago"
    if seconds < 5400:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces."""
    cells = [[one_line(str(c)) for c in headers]] + [[one_line(str(c)) for c in row]
                                                     for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    return "\n".join(lines)


def task_line(task: Task) -> str:
    """``T-3 [ready] high: Title (Agent-2)``."""
    who = f" ({task.agent})" if task.agent else ""
    why = f" - {task.reason}" if task.reason else ""
    line = f"{task.ref} [{task.status.value}] {task.priority.name}: {task.title}{who}{why}"
    return one_line(line)


def tasks_table(tasks: Sequence[Task]) -> str:
    """A table of tasks, or a friendly line when there are none."""
    if not tasks:
        return "no tasks"
    rows = [
        (t.ref, t.status.value, t.priority.name, t.agent or t.pinned or "-", t.role or "-",
         ",".join(task_ref(d) for d in t.after) or "-", shorten(t.title, 50))
        for t in tasks
    ]
    return table(("ID", "STATUS", "PRIORITY", "AGENT", "ROLE", "AFTER", "TITLE"), rows)


def task_detail(task: Task, history: Sequence[Event]) -> str:
    """Every field of a task, then its events."""
    lines = [
        f"{task.ref}: {task.title}",
        f"  status:     {task.status.value}" + (f" ({task.reason})" if task.reason else ""),
        f"  priority:   {task.priority.name}",
        f"  role:       {task.role or 'any'}"
        + (f"; capabilities {', '.join(task.capabilities)}" if task.capabilities else ""),
        f"  agent:      {task.agent or '-'}"
        + (f" (pinned to {task.pinned})" if task.pinned else ""),
        f"  after:      {', '.join(task_ref(d) for d in task.after) or '-'}",
        f"  attempts:   {task.attempts}/{task.max_attempts}",
        f"  created:    {_when(task.created_at)} by {task.created_by}",
        f"  finished:   {_when(task.finished_at)}",
    ]
    if task.note:
        lines.append(f"  note:       {task.note}")
    lines = [one_line(line) for line in lines]
    if task.details:
        lines += ["", *("  " + one_line(line) for line in task.details.splitlines())]
    lines += ["", "history:", *("  " + event_line(e) for e in history)]
    return "\n".join(lines)


def agents_table(rows: Sequence[dict[str, Any]]) -> str:
    """Agents with role, state, current task and last report."""
    return table(
        ("AGENT", "ROLE", "STATE", "TASK", "DONE", "FAILED", "LAST REPORT"),
        [(r["id"], r["role"], r["state"], ",".join(r["tasks"]) or "-", r["done"], r["failed"],
          _ago(r["last_report_at"])) for r in rows],
    )


def event_line(event: Event) -> str:
    """``2026-11-21 12:00:00  task.done  T-3 done by Agent-2``."""
    return one_line(f"{_when(event.ts)}  {event.kind:<20} {event.text}")


def status_text(overview: dict[str, Any]) -> str:
    """The swarm overview for ``swarm status``."""
    tasks = overview["tasks"]
    deliveries = overview["deliveries"]
    paused = overview["input_paused"]
    running = overview.get("coordinator")
    lines = [
        "coordinator: " + (f"running, pid {running['pid']} since {running['since']}" if running
                           else "not running (start it with 'swarm run')"),
        "tasks:      " + ", ".join(f"{k} {v}" for k, v in tasks.items()),
        "deliveries: " + ", ".join(f"{k} {v}" for k, v in deliveries.items()),
        f"input:      {'PAUSED - ' + paused if paused else 'live'}",
        "",
        agents_table(overview["agents"]),
    ]
    return "\n".join(lines)
