"""Plain text for Discord: task lines, tables, splitting at Discord's limits (no discord import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.formats.text import one_line, shorten, split_text
from core.models import Task, task_ref

MESSAGE_LIMIT = 2000


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
    some agent has one; then each agent's state with its evidence."""
    if any(r.get("node") for r in rows):
        head = table(
            ("AGENT", "ROLE", "NODE", "STATE", "TASK", "DONE"),
            [
                (
                    r["id"],
                    r["role"],
                    r["node"] or "-",
                    _state(r),
                    ",".join(r["tasks"]) or "-",
                    r["done"],
                )
                for r in rows
            ],
        )
    else:
        head = table(
            ("AGENT", "ROLE", "STATE", "TASK", "DONE"),
            [(r["id"], r["role"], _state(r), ",".join(r["tasks"]) or "-", r["done"]) for r in rows],
        )
    why = [f"{r['id']}: {shorten(one_line(r['evidence']), 90)}" for r in rows if r.get("evidence")]
    return "\n\n".join([head, "\n".join(why)]) if why else head


def _state(row: dict[str, Any]) -> str:
    """The decided state, with the pause and an unreachable alert."""
    marks = [row["state"]] + ["paused"] * bool(row.get("paused"))
    return ", ".join(marks + [a for a in row.get("alerts", ()) if a != "stalled"])


def parse_refs(text: str) -> list[str]:
    """``"T-1, T-2 3"`` → ``["T-1", "T-2", "T-3"]`` (empty parts dropped)."""
    parts = text.replace(",", " ").split()
    return [
        p.upper() if p.upper().startswith("T-") else task_ref(int(p)) if p.isdigit() else p
        for p in parts
    ]
