"""Plain text for Discord: task lines, tables, splitting at Discord's limits (no discord import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.models import Event, Task, task_ref
from core.text import one_line, shorten, split_text

MESSAGE_LIMIT = 2000
POSTED_KINDS = frozenset(
    {
        "task.created",
        "task.assigned",
        "task.done",
        "task.failed",
        "task.blocked",
        "task.cancelled",
        "task.requeued",
        "task.lease_expired",
        "delivery.delivered",
        "delivery.failed",
        "input.paused",
        "input.resumed",
        "agent.paused",
        "agent.resumed",
        "agent.nudged",
        "schedule.failed",
        "schedule.ran",
        "alert.opened",
        "alert.cleared",
        "summary.posted",
        "plan.created",
        "plan.approved",
        "plan.discarded",
        "campaign.finished",
        "campaign.cancelled",
    }
)
ALERT_KINDS = frozenset({"alert.opened", "alert.cleared"})
LONG_KINDS = frozenset({"summary.posted"})
ICONS = {
    "task.done": "✅",
    "task.failed": "❌",
    "task.blocked": "⛔",
    "delivery.failed": "⚠️",
    "input.paused": "⏸️",
    "input.resumed": "▶️",
    "task.assigned": "📨",
    "alert.opened": "🚨",
    "alert.cleared": "🟢",
    "agent.nudged": "👉",
    "summary.posted": "📋",
}


def code_block_chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split ``text`` and wrap each chunk in a code block that fits the limit."""
    return [f"```\n{chunk or ' '}\n```" for chunk in split_text(text, limit - 8)]


def task_line(task: Task) -> str:
    """``T-3 [ready] high · Title → Agent-2``."""
    who = f" → {task.agent}" if task.agent else (f" (for {task.pinned})" if task.pinned else "")
    why = f" — {task.reason}" if task.reason else ""
    line = f"{task.ref} [{task.status.value}] {task.priority.name} · {task.title}{who}{why}"
    return one_line(line)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Monospace columns (for a code block)."""
    cells = [[one_line(str(c)) for c in headers]] + [[one_line(str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def agents_text(rows: Sequence[dict[str, Any]]) -> str:
    """The ``/agents`` table: role, state, current task, done; the node (PostgreSQL) when
    some agent has one."""
    if any(r.get("node") for r in rows):
        return table(
            ("AGENT", "ROLE", "NODE", "STATE", "TASK", "DONE"),
            [
                (
                    r["id"],
                    r["role"],
                    r["node"] or "-",
                    r["state"],
                    ",".join(r["tasks"]) or "-",
                    r["done"],
                )
                for r in rows
            ],
        )
    return table(
        ("AGENT", "ROLE", "STATE", "TASK", "DONE"),
        [(r["id"], r["role"], r["state"], ",".join(r["tasks"]) or "-", r["done"]) for r in rows],
    )


def event_text(event: Event) -> str:
    """One notification line for an event."""
    icon = ICONS.get(event.kind, "•")
    return shorten(one_line(f"{icon} {event.text}"), 1900)


def parse_refs(text: str) -> list[str]:
    """``"T-1, T-2 3"`` → ``["T-1", "T-2", "T-3"]`` (empty parts dropped)."""
    parts = text.replace(",", " ").split()
    return [
        p.upper() if p.upper().startswith("T-") else task_ref(int(p)) if p.isdigit() else p
        for p in parts
    ]
