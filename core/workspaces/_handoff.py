"""The handoff section of a task prompt: when a task moves to another agent, what the
previous agent left (why it moved, its notes and last report, its branch and commits)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from core.event_kinds import EventKind
from core.history import event_queries
from core.models import task_ref
from core.store.conn import Conn
from core.workspaces._work import TaskWork, branch_of, turns

MOVES = (EventKind.TASK_REQUEUED, EventKind.TASK_RETRIED, EventKind.TASK_FAILED)
REPORTS = (
    EventKind.TASK_STARTED,
    EventKind.TASK_PROGRESS,
    EventKind.TASK_NOTE,
    EventKind.TASK_FAILED,
)


@dataclass
class Handoff:
    """What the next agent is told about the previous one's turn."""

    task_id: int
    previous: str
    why: str
    notes: list[str] = field(default_factory=list)
    last_report: str | None = None
    turn: TaskWork | None = None
    commits: list[tuple[str, str]] = field(default_factory=list)  # (sha, subject)
    end_sha: str | None = None
    branch: str | None = None  # the task's own branch (the next agent works on it too)

    def text(self) -> str:
        """The section as the agent reads it."""
        lines = [
            f"HANDOFF: {task_ref(self.task_id)} comes to you from {self.previous} "
            f"({self.why}). Continue its work; do not start over."
        ]
        if self.notes:
            lines += [f"Notes from {self.previous}:", *(f"- {n}" for n in self.notes)]
        if self.last_report:
            lines.append(f"Last report from {self.previous}: {self.last_report}")
        lines += self._work_lines()
        lines.append(
            "What remains: everything the task asks that these notes and commits "
            "do not already cover."
        )
        return "\n".join(lines)

    def _work_lines(self) -> list[str]:
        turn = self.turn
        if turn is None:
            return [f"{self.previous} worked without a workspace: no commits to take over."]
        where = f"branch {turn.branch} ({turn.path})" if turn.branch else turn.path
        if not self.commits:
            return [f"{self.previous} made no commits on {where} for this task."]
        lines = [
            f"{self.previous}'s commits on {where} so far:",
            *(f"- {sha[:10]} {subject}" for sha, subject in self.commits),
        ]
        if self.branch and turn.branch == self.branch:
            lines.append(
                f"They are on {self.branch}, this task's own branch, which your workspace "
                "has checked out: continue from them (nothing to cherry-pick)"
            )
        elif turn.start_sha and self.end_sha:
            lines.append(
                f"Take them over in your workspace: git cherry-pick "
                f"{turn.start_sha[:10]}..{self.end_sha[:10]} (one repository, "
                "every branch is visible)"
            )
        return lines


def facts(conn: Conn, task_id: int, agent: str) -> Handoff | None:
    """The handoff for ``agent``'s current turn, or None when nobody held the task before."""
    rows = event_queries.of_task(conn, task_id)
    assigned = {i: r.agent for i, r in enumerate(rows) if r.kind == EventKind.TASK_ASSIGNED}
    mine = [i for i, to in assigned.items() if to == agent]
    if not mine:
        return None
    before = [(i, to) for i, to in assigned.items() if i < mine[-1] and to not in (agent, None)]
    if not before:
        return None
    start, previous = before[-1]
    span = rows[start : mine[-1]]
    moves = [r.text for r in span if r.kind in MOVES]
    why = moves[-1].split(": ", 1)[-1] if moves else "reassigned"
    found = Handoff(task_id, previous, why)
    for row in rows[: mine[-1]]:
        if row.agent != previous or row.kind not in REPORTS:
            continue
        note = json.loads(row.data).get("note") if row.data else None
        if note:
            found.notes.append(note)
        found.last_report = row.text
    found.turn = next((t for t in reversed(turns(conn, task_id)) if t.agent == previous), None)
    found.branch = branch_of(conn, task_id)
    return found


def handoff_text(conn: Conn, task_id: int, agent: str | None) -> str | None:
    """The handoff ``agent`` (the task's holder; None: nobody) was given, as its prompt says
    it; None when nobody held the task before (the dashboard's task page)."""
    if not agent:
        return None
    found = facts(conn, task_id, agent)
    return found.text() if found is not None else None
