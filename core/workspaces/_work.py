"""Rows of ``task_work``: where a task was worked on and which commits it made; rows of
``task_branches``: the branch a task works on of its own (a GitHub task's, and its follow-ups'),
which its agent's worktree is moved to before its prompt (``core/workspaces/_task_branch.py``).

Each function runs inside one transaction (a function of a ``Conn``); the statements are
``core.workspaces._queries``'.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from core.context import Ctx
from core.event_kinds import EventKind
from core.models import task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.workspaces import _queries as queries
from core.workspaces._queries import TaskWork as TaskWork


def record_starts(conn: Conn, works: list[TaskWork]) -> None:
    """Remember the branch head when each task first reached its agent (a turn already
    known stays as it is); one transaction for the prompts built together (``Grouped``)."""
    queries.insert_turns(conn, [_start_row(one) for one in works])


def _start_row(work: TaskWork) -> tuple[Any, ...]:
    return (
        work.task_id, work.agent, work.path, work.branch, work.base, work.start_sha,
        work.started_at, work.start_files,
    )  # fmt: skip


def turns(conn: Conn, task_id: int) -> list[TaskWork]:
    """Every agent's turn on the task, oldest first."""
    return queries.turn_rows(conn, task_id)


class StartKnown(NamedTuple):
    """What a task's prompt needs of its past before its agent's worktree moves."""

    branch: str | None  # the branch it works on of its own (None: its agent's)
    known: bool  # the agent's turn on it is stored already (its start is not read again)
    unworked: bool  # it has a branch of its own, and no turn on that branch is stored


def start_known(conn: Conn, task_id: int, agent: str) -> StartKnown:
    """:class:`StartKnown` of ``task_id`` for ``agent``."""
    branch = queries.branch_row(conn, task_id)
    known = queries.turn_known(conn, task_id, agent)
    unworked = branch is not None and not known and not queries.branch_worked(conn, branch)
    return StartKnown(branch, known, unworked)


def next_turn(conn: Conn, work: TaskWork) -> queries.NextTurn | None:
    """The turn begun next in ``work``'s worktree (what ends what ``work`` left there)."""
    return queries.next_turn_row(conn, work.path, work.started_at)


def holder_turn(conn: Conn, task_id: int) -> TaskWork | None:
    """The latest turn of the agent holding (or last holding) the task, or None."""
    return queries.holder_turn_row(conn, task_id)


def record_end(
    conn: Conn,
    ctx: Ctx,
    work: TaskWork,
    end_sha: str,
    commits: list[dict[str, str]],
    stat: str,
) -> None:
    """Store the head at done and put the commits made since the start in the history."""
    queries.end_turn(conn, work.task_id, work.agent, end_sha, ctx.now)
    listed = "; ".join(f"{c['sha'][:10]} {c['subject']}" for c in commits) or "none"
    text = (
        f"{task_ref(work.task_id)}: {len(commits)} commit(s) on {work.branch} by "
        f"{work.agent}: {listed}"
    )
    data: dict[str, Any] = {
        "branch": work.branch,
        "start": work.start_sha,
        "end": end_sha,
        "commits": commits,
        "stat": stat,
    }
    insert_event(
        conn,
        ctx.now,
        EventKind.TASK_COMMITS,
        text,
        task_id=work.task_id,
        agent=work.agent,
        actor=ctx.actor,
        data=data,
    )


def record_merge(conn: Conn, ctx: Ctx, task_id: int, text: str, data: dict[str, Any]) -> None:
    """Put a merge of the task's commits in its history."""
    insert_event(
        conn, ctx.now, EventKind.TASK_MERGED, text, task_id=task_id, actor=ctx.actor, data=data
    )


def reopen_turn(conn: Conn, task_id: int, agent: str) -> None:
    """The agent's turn on a reopened task goes on: its diff runs to the branch's head
    again, and its next done records the commits since the turn began."""
    queries.reopen_turn(conn, task_id, agent)


def set_branch(conn: Conn, task_id: int, branch: str, now: float) -> None:
    """``task_id`` works on ``branch`` of its own (made from the base when first used)."""
    queries.insert_branch(conn, task_id, branch, now)


def branch_of(conn: Conn, task_id: int) -> str | None:
    """The branch ``task_id`` works on of its own; None: its agent's branch."""
    return queries.branch_row(conn, task_id)
