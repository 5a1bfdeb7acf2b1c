"""The server's state: users, repositories and what lives in them (in memory)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Json = dict[str, Any]
PERMISSIONS = ("none", "read", "write", "admin")


def now_iso() -> str:
    """The current time as GitHub writes it: 2011-04-22T13:33:48Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RateLimit:
    """One user's primary (core) rate limit: a window of ``limit`` requests."""

    limit: int = 5000
    used: int = 0
    reset: int = 0
    window_s: int = 3600

    def roll(self) -> None:
        """Start a new window once the reset time has passed."""
        current = int(time.time())
        if current >= self.reset:
            self.used = 0
            self.reset = current + self.window_s

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(0, self.limit - self.used)

    def as_json(self) -> Json:
        """The shape of one resource in ``GET /rate_limit``."""
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset,
        }


@dataclass
class User:
    """A GitHub account with one token and one permission on every repository."""

    login: str
    id: int
    token: str
    permission: str
    fine_grained: bool
    scopes: tuple[str, ...]
    created_at: str
    rate: RateLimit = field(default_factory=RateLimit)


@dataclass
class Label:
    """A repository label."""

    id: int
    name: str
    color: str
    description: str | None
    default: bool = False


@dataclass
class Event:
    """An issue event (labeled, unlabeled, closed, reopened, merged...)."""

    id: int
    event: str
    actor: str
    created_at: str
    label: str | None = None
    color: str | None = None
    commit_id: str | None = None
    rename: dict[str, str] | None = None  # ``renamed``: the title's ``from`` and ``to``


@dataclass
class Edit:
    """One version of an issue's body (GraphQL's ``UserContentEdit``): when, by whom."""

    id: int
    edited_at: str
    editor: str


@dataclass
class Comment:
    """An issue (or pull request conversation) comment."""

    id: int
    issue: int
    user: str
    body: str
    created_at: str
    updated_at: str


@dataclass
class ReviewComment:
    """A comment on a line of a pull request's diff, part of a review."""

    id: int
    review_id: int
    pull: int
    user: str
    path: str
    line: int | None
    side: str
    start_line: int | None
    body: str
    commit_id: str
    created_at: str


@dataclass
class Review:
    """A submitted pull request review."""

    id: int
    pull: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: str


@dataclass
class PullData:
    """What a pull request adds to its issue."""

    head: str
    base: str
    head_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    maintainer_can_modify: bool = False


@dataclass
class Issue:
    """An issue or, with ``pull`` set, a pull request (they share one number sequence)."""

    id: int
    number: int
    title: str
    body: str | None
    user: str
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    parent: int | None = None
    pull: PullData | None = None
    edits: list[Edit] = field(default_factory=list)  # the body's versions, oldest first


@dataclass
class CheckRun:
    """A check run on a commit."""

    id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    started_at: str
    completed_at: str | None
    details_url: str | None
    external_id: str | None
    output: Json


@dataclass
class Status:
    """A commit status (the older CI API)."""

    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str
    updated_at: str


@dataclass
class Repo:
    """A repository: a bare git repository on disk plus its issues, pulls and CI results."""

    id: int
    owner: str
    name: str
    path: Path
    default_branch: str
    private: bool
    created_at: str
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    events: dict[int, list[Event]] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        """owner/name."""
        return f"{self.owner}/{self.name}"

    def next_number(self) -> int:
        """The next issue/pull number."""
        return len(self.issues) + 1

    def pulls(self) -> list[Issue]:
        """The issues that are pull requests."""
        return [issue for issue in self.issues.values() if issue.pull is not None]


class Ids:
    """Increasing ids, one sequence for everything (GitHub's ids are unique per kind)."""

    def __init__(self, start: int = 1000) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        """A fresh id."""
        return next(self._counter)
