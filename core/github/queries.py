"""The statements of ``github_issues`` (``core.github.links``): an issue's row claimed and
linked to its task, the rows read, a row's columns changed (the events it reads, a CI
choice and a follow-up's link, are ``core.history.event_queries``'); the webhook deliveries
taken once. Each is one named operation; the rows come back as ``Link``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.models import task_ref
from core.store.conn import Conn, Pair, Row, listed, sql, sql_pair, values

COLUMNS = (  # ``Link``'s
    "id, repo, issue, first_task, task_id, state, comment_id, shown, history, pr, branch, "
    "head_sha, ci, ci_retries, review_id, issue_url, pr_url, created_at, updated_at"
)
# The columns ``change`` may set (their names go into SQL: only these).
CHANGEABLE = frozenset(
    {"task_id", "state", "comment_id", "shown", "pr", "branch", "head_sha", "ci", "ci_retries"}
    | {"review_id", "history", "pr_url"}
)
# ``change``: each changeable column set to its value where its ``set_`` flag is 1
_CHANGE_COLUMNS = sorted(CHANGEABLE)
CHANGE = sql(
    "UPDATE github_issues SET "
    + "".join(f"{c} = CASE WHEN :set_{c} = 1 THEN :{c} ELSE {c} END, " for c in _CHANGE_COLUMNS)
    + "updated_at = :now WHERE id = :id"
)
LINKED_TASKS = sql("SELECT issue, task_id FROM github_issues WHERE repo = :repo")
LINK_TASK = sql(
    "UPDATE github_issues SET first_task = :task_id, task_id = :task_id, issue_url = :url "
    "WHERE repo = :repo AND issue = :issue"
)
ROWS_IN_STATE = sql(
    f"SELECT {COLUMNS} FROM github_issues WHERE repo = :repo AND state = :state ORDER BY id"
)
NEWEST_ROWS = sql(
    f"SELECT {COLUMNS} FROM github_issues WHERE repo = :repo ORDER BY id DESC LIMIT :limit"
)
ROW_BY_ID = sql(f"SELECT {COLUMNS} FROM github_issues WHERE id = :id")
ROW_OF_TASK = sql(
    f"SELECT {COLUMNS} FROM github_issues WHERE task_id = :task_id OR first_task = :task_id "
    "ORDER BY id DESC LIMIT 1"
)
TAKE_CI = sql(
    "UPDATE github_issues SET ci = :pending, updated_at = :now WHERE id = :id AND "
    "task_id = :task_id AND ci = :was"
)
IMPORTED_ISSUES = sql("SELECT issue FROM github_issues WHERE repo = :repo")
FORGET_HEAD = sql(
    "UPDATE github_issues SET head_sha = NULL, ci = NULL, updated_at = :now WHERE id = :id"
)
FORGET_DELIVERIES = sql("DELETE FROM github_deliveries WHERE received_at < :since")
RECEIVE = sql(
    "INSERT INTO github_deliveries (delivery, digest, received_at) VALUES (:delivery, "
    ":digest, :now) ON CONFLICT DO NOTHING RETURNING delivery"
)


@dataclass
class Link:
    """One imported issue and the task working on it now."""

    id: int
    repo: str
    issue: int
    first_task: int
    task_id: int
    state: str
    comment_id: int | None
    shown: str | None
    history: list[str] = field(default_factory=list)
    pr: int | None = None
    branch: str | None = None
    head_sha: str | None = None
    ci: str | None = None
    ci_retries: int = 0
    review_id: int = 0
    issue_url: str | None = None
    pr_url: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the dashboard."""
        return {
            "issue": self.issue,
            "issue_url": self.issue_url,
            "pr_url": self.pr_url,
            "task": task_ref(self.task_id),
            "first_task": task_ref(self.first_task),
            "state": self.state,
            "shown": self.shown,
            "pr": self.pr,
            "ci": self.ci,
            "ci_retries": self.ci_retries,
        }


# ``claim_issues``: one row per issue of the list ``:issues`` (``WHERE true``: SQLite reads
# ``ON CONFLICT`` after a bare ``SELECT ... FROM`` as a join's ``ON``)
CLAIM_ISSUES = sql_pair(
    "INSERT INTO github_issues (repo, issue, first_task, task_id, created_at, updated_at) "
    "SELECT :repo, {issue}, 0, 0, :now, :now FROM {issues} WHERE true "
    "ON CONFLICT (repo, issue) DO NOTHING RETURNING issue",
    issue=Pair("value", "CAST(value AS BIGINT)"),
    issues=Pair("json_each(:issues)", "json_array_elements_text(CAST(:issues AS json)) AS i"),
)


def _link(row: Row) -> Link:
    """A row of ``COLUMNS``, its history (a JSON list) read."""
    cells = list(values(row))
    cells[8] = json.loads(cells[8] or "[]")
    return Link(*cells)


def claim_issues(conn: Conn, repo: str, issues: Sequence[int], now: float) -> set[int]:
    """The ``issues`` (at least one) not imported yet, each now held by a row of this
    transaction, its task 0 until ``link_task``. One statement on the unique ``(repo,
    issue)``: an issue another writer is importing now waits for that writer's end, then is
    left out (PostgreSQL); on SQLite the write transaction already holds the whole
    database."""
    params = {"repo": repo, "issues": listed(issues), "now": now}
    found = conn.execute(CLAIM_ISSUES.on(conn), params).fetchall()
    return {int(r["issue"]) for r in found}


def linked_tasks(conn: Conn, repo: str) -> dict[int, int]:
    """Issue -> its task now, for every issue of ``repo`` swarm imported."""
    return {r["issue"]: r["task_id"] for r in conn.execute(LINKED_TASKS, {"repo": repo})}


def link_task(conn: Conn, repo: str, issue: int, task_id: int, url: str | None) -> None:
    """The claimed issue's first (and current) task is ``task_id``; its page ``url``."""
    conn.execute(LINK_TASK, {"task_id": task_id, "url": url, "repo": repo, "issue": issue})


def rows_in_state(conn: Conn, repo: str, state: str) -> list[Link]:
    """The links of ``repo`` in ``state``, oldest first."""
    return [_link(row) for row in conn.execute(ROWS_IN_STATE, {"repo": repo, "state": state})]


def newest_rows(conn: Conn, repo: str, limit: int) -> list[Link]:
    """The newest ``limit`` links of ``repo``."""
    return [_link(row) for row in conn.execute(NEWEST_ROWS, {"repo": repo, "limit": limit})]


def row_by_id(conn: Conn, link_id: int) -> Link | None:
    """One link by its id, or None."""
    row = conn.execute(ROW_BY_ID, {"id": link_id}).fetchone()
    return None if row is None else _link(row)


def row_of_task(conn: Conn, task_id: int) -> Link | None:
    """The newest link whose first or current task is ``task_id``, or None."""
    row = conn.execute(ROW_OF_TASK, {"task_id": task_id}).fetchone()
    return None if row is None else _link(row)


def check_columns(fields: dict[str, Any]) -> None:
    """ValueError unless every name of ``fields`` is a column ``change`` may set."""
    unknown = set(fields) - CHANGEABLE
    if unknown:
        raise ValueError(f"not a github_issues column: {sorted(unknown)}")


def change(conn: Conn, link_id: int, now: float, fields: dict[str, Any]) -> None:
    """Set the columns ``fields`` (names from ``CHANGEABLE``, checked) of a row, stamped
    ``now``; a column not named keeps its value, a None sets it NULL."""
    check_columns(fields)
    given = {f"set_{name}": int(name in fields) for name in _CHANGE_COLUMNS}
    named = {name: fields.get(name) for name in _CHANGE_COLUMNS}
    conn.execute(CHANGE, {**given, **named, "now": now, "id": link_id})


def take_ci(conn: Conn, link_id: int, task_id: int, pending: str, was: str, now: float) -> bool:
    """Set the row's ``ci`` to ``pending`` while it is still ``was`` for ``task_id``; False
    when another writer chose in between."""
    taken = conn.execute(
        TAKE_CI, {"pending": pending, "now": now, "id": link_id, "task_id": task_id, "was": was}
    ).rowcount
    return bool(taken == 1)


def imported_issues(conn: Conn, repo: str) -> list[tuple[int]]:
    """The issues of ``repo`` that were imported, as one-tuples."""
    return [(r["issue"],) for r in conn.execute(IMPORTED_ISSUES, {"repo": repo})]


def forget_head(conn: Conn, link_id: int, now: float) -> None:
    """The link's PR head and CI are unknown again (its branch is pushed anew)."""
    conn.execute(FORGET_HEAD, {"now": now, "id": link_id})


def receive_once(conn: Conn, delivery: str, body_digest: str, now: float, since: float) -> bool:
    """Forget the webhook deliveries received before ``since``, then record ``delivery``
    (its id and its body's digest) unless either was received since: True when it was new."""
    conn.execute(FORGET_DELIVERIES, {"since": since})
    fresh = conn.execute(
        RECEIVE, {"delivery": delivery, "digest": body_digest, "now": now}
    ).fetchone()
    return fresh is not None
