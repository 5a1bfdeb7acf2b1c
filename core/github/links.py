"""Rows of ``github_issues``: which task works on which issue, and what swarm last saw and
showed of it. Each function runs inside one transaction (a function of a connection)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.assignment import lifecycle
from core.context import Ctx
from core.errors import InvalidState
from core.event_kinds import EventKind
from core.github import queries
from core.github.queries import Link as Link
from core.github.rules import ci_prompt, task_branch
from core.history import event_queries
from core.models import Task, TaskSpec, TaskStatus, task_ref
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import creation, get_task, person
from core.workspaces import work

OPEN, CLOSED = "open", "closed"  # CLOSED: cancelled, merged or closed on GitHub: left alone


@dataclass(frozen=True)
class NewIssue:
    """An issue to import: its task and the issue numbers it waits for."""

    issue: int
    spec: TaskSpec
    after_issues: tuple[int, ...]
    url: str | None = None  # the issue's page on GitHub
    issue_title: str = ""  # as written on GitHub: its task's branch is named from it


def import_issues(conn: Conn, ctx: Ctx, repo: str, new: Sequence[NewIssue]) -> dict[int, int]:
    """Create the tasks of issues not imported yet (one batch: they may wait for each
    other) and remember issue → task; the issues already known are skipped. Issue → task id.

    Each issue's row is claimed first (``_claim``), so two writers importing the same issue at
    once make one task: the second waits for the first's row and skips it."""
    claimed = _claim(conn, ctx, repo, [n.issue for n in new])
    fresh = [n for n in new if n.issue in claimed]
    if not fresh:
        return {}
    linked = queries.linked_tasks(conn, repo)
    batch = {n.issue for n in fresh}
    specs = []
    for item in fresh:
        after: list[str | int] = [
            f"issue-{n}" if n in batch else linked[n]
            for n in item.after_issues
            if n in batch or n in linked
        ]
        spec = item.spec
        specs.append(
            TaskSpec(
                title=spec.title,
                details=spec.details,
                priority=spec.priority,
                role=spec.role,
                after=tuple(after),
                ref=f"issue-{item.issue}",
            )
        )
    ids = creation.create_tasks(conn, ctx, specs)
    made = {}
    for item, task_id in zip(fresh, ids, strict=True):
        branch = task_branch(task_ref(task_id), item.issue_title or item.spec.title)
        work.set_branch(conn, task_id, branch, ctx.now)
        queries.link_task(conn, repo, item.issue, task_id, web_url(item.url))
        insert_event(
            conn,
            ctx.now,
            EventKind.GITHUB_IMPORTED,
            f"{task_ref(task_id)} from GitHub issue #{item.issue}",
            task_id=task_id,
            actor=ctx.actor,
            data={"repo": repo, "issue": item.issue},
        )
        made[item.issue] = task_id
    return made


def _claim(conn: Conn, ctx: Ctx, repo: str, issues: Sequence[int]) -> set[int]:
    """The ``issues`` not imported yet, each now held by a row of this transaction
    (``queries.claim_issues``; its task filled in by the caller)."""
    if not issues:
        return set()
    return queries.claim_issues(conn, repo, issues, ctx.now)


def web_url(url: object) -> str | None:
    """``url`` when it is an http(s) page address (what GitHub sends as ``html_url``)."""
    text = str(url or "")
    ok = text.startswith(("https://", "http://")) and len(text) < 500 and text.isprintable()
    return text if ok and " " not in text else None


def open_links(conn: Conn, repo: str) -> list[Link]:
    """Every issue swarm still follows on ``repo``, oldest first."""
    return queries.rows_in_state(conn, repo, OPEN)


def all_links(conn: Conn, repo: str, limit: int = 200) -> list[Link]:
    """The newest imported issues of ``repo``."""
    return queries.newest_rows(conn, repo, limit)


def link_by_id(conn: Conn, link_id: int) -> Link | None:
    """One link by its id."""
    return queries.row_by_id(conn, link_id)


def current_task(conn: Conn, link: Link) -> Task:
    """The task working on ``link``'s issue now."""
    return get_task(conn, link.task_id)


def link_of_task(conn: Conn, task_id: int) -> Link | None:
    """The issue a task (first or follow-up) works on; None for other tasks."""
    link = queries.row_of_task(conn, task_id)
    if link is not None:
        return link
    found = event_queries.followup_data(conn, task_id)
    if found is None:
        return None
    return link_by_id(conn, json.loads(found)["link"])


def change(conn: Conn, link_id: int, now: float, **fields: Any) -> None:
    """Set some of a link's columns."""
    queries.check_columns(fields)
    if "history" in fields:
        fields["history"] = json.dumps(fields["history"][-50:])
    queries.change(conn, link_id, now, fields)


def follow_up(
    conn: Conn,
    ctx: Ctx,
    link: Link,
    spec: TaskSpec,
    kind: str,
    fields: dict[str, Any],
) -> int:
    """A task that sends CI failures or review comments back to the agent (``spec.agent``):
    created, made the issue's current task, with an event saying why."""
    (task_id,) = creation.create_tasks(conn, ctx, [spec])
    branch = work.branch_of(conn, link.first_task)
    if branch is not None:  # the follow-up works on the branch of the PR it fixes
        work.set_branch(conn, task_id, branch, ctx.now)
    change(conn, link.id, ctx.now, task_id=task_id, **fields)
    insert_event(
        conn,
        ctx.now,
        EventKind.GITHUB_FOLLOWUP,
        f"{task_ref(task_id)} sends {kind} of PR #{link.pr} back to {spec.agent}",
        task_id=task_id,
        agent=spec.agent,
        actor=ctx.actor,
        data={"link": link.id, "issue": link.issue, "pr": link.pr, "kind": kind},
    )
    return task_id


def close_for_issue(conn: Conn, ctx: Ctx, link: Link, why: str) -> bool:
    """The issue was closed or lost its label: cancel its task (when not finished) with a
    note saying why, and stop following it. True when a task was cancelled."""
    task = get_task(conn, link.task_id)
    cancelled = task.status in (
        TaskStatus.blocked,
        TaskStatus.ready,
        TaskStatus.assigned,
        TaskStatus.in_progress,
    )
    if cancelled:
        lifecycle.cancel(conn, ctx, task.id)
    change(conn, link.id, ctx.now, state=CLOSED)
    insert_event(
        conn,
        ctx.now,
        EventKind.GITHUB_CLOSED,
        f"{task.ref} {'cancelled' if cancelled else 'left as it is'}: {why}",
        task_id=task.id,
        actor=ctx.actor,
        data={"issue": link.issue, "why": why},
    )
    return cancelled


def note(conn: Conn, ctx: Ctx, task_id: int, kind: EventKind, text: str) -> None:
    """An event on a task's history (a refused push, a CI verdict, an opened PR)."""
    insert_event(conn, ctx.now, kind, text, task_id=task_id, actor=ctx.actor)


# -- CI past its retries: a person chooses (the Discord post's buttons) ----------------------

EXHAUSTED = "exhausted"  # ci: failed past the retries, waiting for a person
CI_ACTIONS = {"retry": "retry", "takeover": "take over", "close": "close"}
# what the GitHub loop still has to do on GitHub for a decision (then ``taken`` / closed)
CI_PENDING = {"takeover": "take-over", "close": "closing"}
TAKEN = "taken"


@dataclass(frozen=True)
class CiDecision:
    """What a person chose for a task whose CI failed past its retries."""

    task_id: int
    action: str  # retry, takeover, close
    by: str
    text: str  # one line: what was done
    followup: int | None = None  # retry: the task that goes back to the agent


def exhausted(conn: Conn, ctx: Ctx, link: Link, task_id: int, data: dict[str, Any]) -> None:
    """CI failed past the retries: the link waits for a person; ``github.ci_exhausted``
    carries what the Discord post shows and a retry needs (check, log tail, agent)."""
    change(conn, link.id, ctx.now, ci=EXHAUSTED)
    insert_event(
        conn,
        ctx.now,
        EventKind.GITHUB_CI_EXHAUSTED,
        f"CI of PR #{link.pr} failed ({data['check']}) past {data['retries']} retries",
        task_id=task_id,
        agent=data.get("agent"),
        actor=ctx.actor,
        data={"link": link.id, "issue": link.issue, "pr": link.pr, **data},
    )


def ci_decision(conn: Conn, task_id: int) -> CiDecision | None:
    """The choice made for ``task_id``'s exhausted CI, if one was."""
    row = event_queries.ci_decided(conn, task_id)
    if row is None:
        return None
    data = json.loads(row.data or "{}")
    return CiDecision(
        task_id, str(data.get("action")), str(row.actor), row.text, data.get("followup")
    )


def exhausted_data(conn: Conn, task_id: int) -> dict[str, Any] | None:
    """What ``github.ci_exhausted`` said of ``task_id`` last (check, log tail, PR, retries),
    None when its CI never failed past the retries."""
    data = event_queries.ci_exhausted(conn, task_id)
    return dict(json.loads(data)) if data is not None else None


def decide_ci(conn: Conn, ctx: Ctx, task_id: int, action: str) -> CiDecision:
    """Retry, take over or close the PR of a task whose CI failed past its retries, as
    ``ctx.actor``; once only (a second choice is refused, naming who chose what)."""
    if action not in CI_ACTIONS:
        raise ValueError(f"not a CI action: {action!r}")
    done = ci_decision(conn, task_id)
    if done is not None:
        raise InvalidState(
            f"{task_ref(task_id)}: {CI_ACTIONS.get(done.action, done.action)!r} was already "
            f"chosen by {done.by}"
        )
    link = link_of_task(conn, task_id)
    started = exhausted_data(conn, task_id)
    if link is None or link.task_id != task_id or link.ci != EXHAUSTED or started is None:
        raise InvalidState(f"{task_ref(task_id)}: its CI no longer waits for a person")
    pending = CI_PENDING.get(action, "failure")
    if not queries.take_ci(conn, link.id, task_id, pending, EXHAUSTED, ctx.now):
        # another writer chose in between: say who
        return decide_ci(conn, ctx, task_id, action)
    return _apply_ci(conn, ctx, link, action, started)


def _apply_ci(conn: Conn, ctx: Ctx, link: Link, action: str, data: dict[str, Any]) -> CiDecision:
    ref, pr = task_ref(link.task_id), f"PR #{link.pr}"
    followup = None
    if action == "retry":
        budget = int(data.get("retries") or 0)
        check, tail = str(data.get("check") or "CI"), str(data.get("tail") or "")
        title, details = ci_prompt(ref, link.pr or 0, check, tail, budget)
        task = get_task(conn, link.task_id)
        spec = TaskSpec(title=title, details=details, priority=task.priority, agent=data["agent"])
        fields = {"ci": "failure", "ci_retries": 0, "head_sha": None}
        followup = follow_up(conn, ctx, link, spec, f"CI failure ({check}), retried", fields)
        text = f"{ref}: retry chosen by {ctx.actor}: {task_ref(followup)} sends {pr} back to "
        text += f"{data['agent']} (a fresh budget of {budget} CI retries)"
    elif action == "takeover":
        person.take_over(conn, ctx, link.task_id, f"taken over by {ctx.actor}")
        text = f"{ref}: taken over by {ctx.actor} ({pr} is theirs now; no agent works on it)"
    else:
        person.discard(conn, ctx, link.task_id, f"{pr} closed by {ctx.actor}: CI kept failing")
        text = f"{ref}: {pr} closed and {ref} cancelled by {ctx.actor}"
    insert_event(
        conn,
        ctx.now,
        EventKind.GITHUB_CI_DECIDED,
        text,
        task_id=link.task_id,
        actor=ctx.actor,
        data={"link": link.id, "pr": link.pr, "action": action, "followup": followup},
    )
    return CiDecision(link.task_id, action, ctx.actor, text, followup)
