"""Reviews made on swarm's dashboard (``task.review`` events: comments on lines of a task's
diff, sent to its agent) reach the task's pull request as one GitHub review, once.

A comment on a line inside the PR's diff becomes a review comment on that line; one GitHub
cannot take (a line outside the diff, a comment on the whole task) goes in the review's body
as ``file:line: comment``. Each posted review is a ``github.review_posted`` event naming the
``task.review`` event it carried (so it is posted once) and the GitHub review's id (so the
loop does not send that review back to the agent a second time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.context import Ctx
from core.event_kinds import EventKind
from core.github import queries
from core.github.links import Link, link_of_task
from core.history import event_queries
from core.models import task_ref
from core.reviews import comment_rows
from core.store.conn import Conn
from core.store.tables import insert_event

KIND = EventKind.GITHUB_REVIEW_POSTED
SCAN = 500  # the newest dashboard reviews looked at
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Comment:
    """One dashboard comment: ``path``/``line`` None for one on the whole task."""

    path: str | None
    line: int | None
    body: str


@dataclass(frozen=True)
class Outgoing:
    """A dashboard review still to post on a PR."""

    event_id: int
    link: Link
    reviewer: str
    comments: tuple[Comment, ...]


def unposted(conn: Conn, repo: str) -> list[Outgoing]:
    """The dashboard reviews of tasks whose issue has an open PR, not posted yet."""
    posted = _posted(conn)
    rows = event_queries.newest_reviews(conn, SCAN)
    found = []
    for event_id, task_id, actor, data in reversed(rows):
        if event_id in posted["events"] or task_id is None:
            continue
        link = link_of_task(conn, int(task_id))
        if link is None or link.repo != repo or link.pr is None or link.state != "open":
            continue
        ids = [int(i) for i in (json.loads(data or "{}").get("comments") or [])]
        found.append(Outgoing(event_id, link, str(actor or "a person"), _comments(conn, ids)))
    return found


def posted_reviews(conn: Conn) -> set[int]:
    """The ids of the GitHub reviews swarm posted itself (not sent back to the agent)."""
    return _posted(conn)["reviews"]


def _posted(conn: Conn) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {"events": set(), "reviews": set()}
    for data in event_queries.data_of_kind(conn, KIND):
        loaded = json.loads(data or "{}")
        seen["events"].add(int(loaded.get("event") or 0))
        seen["reviews"].add(int(loaded.get("review") or 0))
    return seen


def _comments(conn: Conn, ids: Sequence[int]) -> tuple[Comment, ...]:
    if not ids:
        return ()
    rows = comment_rows(conn, ids)
    return tuple(Comment(row.path, row.line, row.body) for row in rows)


def key(out: Outgoing) -> str:
    """The mark of ``out``'s review on GitHub (``core.github.once``): posted once."""
    return f"{task_ref(out.link.task_id)}:review-{out.event_id}"


def diff_lines(files: Iterable[dict[str, Any]]) -> set[tuple[str, int]]:
    """``(path, line)`` of every new-side line in the PR's diff (added or context): the
    lines GitHub takes a review comment on."""
    lines: set[tuple[str, int]] = set()
    for changed in files:
        path, line = str(changed.get("filename") or ""), 0
        for text in str(changed.get("patch") or "").splitlines():
            hunk = _HUNK.match(text)
            if hunk:
                line = int(hunk.group(1))
            elif line and not text.startswith(("-", "\\")):
                lines.add((path, line))
                line += 1
    return lines


def review_payload(out: Outgoing, in_diff: set[tuple[str, int]]) -> dict[str, Any]:
    """The body of ``POST /pulls/{n}/reviews``: comments on lines of the diff as review
    comments, the rest (and comments on the whole task) in the body as ``file:line``."""
    inline, loose = [], []
    for c in out.comments:
        if c.path is not None and c.line is not None and (c.path, c.line) in in_diff:
            inline.append({"path": c.path, "line": c.line, "side": "RIGHT", "body": c.body})
        else:
            where = f"{c.path}:{c.line}" if c.path is not None else "(the whole change)"
            loose.append(f"- {where}: {c.body}")
    head = (
        f"Review from swarm's dashboard by {out.reviewer} on {task_ref(out.link.task_id)} "
        f"({len(out.comments)} comment(s); the agent has them too)."
    )
    body = "\n".join([head, *(["", *loose] if loose else [])])
    return {"event": "COMMENT", "body": body, "comments": inline}


def posted(conn: Conn, ctx: Ctx, out: Outgoing, review_id: int, inline: int) -> None:
    """Remember that ``out`` went to GitHub as review ``review_id``; the branch is pushed
    again when the agent is done with the review (the PR updates)."""
    queries.forget_head(conn, out.link.id, ctx.now)
    insert_event(
        conn,
        ctx.now,
        KIND,
        f"{task_ref(out.link.task_id)}: the dashboard review by {out.reviewer} posted on "
        f"PR #{out.link.pr} ({inline} on lines of the diff, "
        f"{len(out.comments) - inline} in its text)",
        task_id=out.link.task_id,
        actor=ctx.actor,
        data={"event": out.event_id, "review": review_id, "pr": out.link.pr},
    )
