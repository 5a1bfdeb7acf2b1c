"""The state and the changes to it that the API and the test helpers share."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from localgithub.errors import ApiError
from localgithub.git import create_bare
from localgithub.model import (
    PERMISSIONS,
    Comment,
    Edit,
    Event,
    Ids,
    Issue,
    Label,
    Repo,
    User,
    now_iso,
)

Listener = Callable[[str, str, Repo, dict[str, object]], None]
DEFAULT_LABEL_COLOR = "ededed"


class World:
    """Users, tokens and repositories; every change that makes an event goes through here."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ids = Ids()
        self.users: dict[str, User] = {}
        self.tokens: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.listeners: list[Listener] = []
        self.anonymous_limit = 60

    # -- users ----------------------------------------------------------------------------

    def add_user(self, login: str, permission: str = "write", *, classic: bool = False) -> User:
        """A user with a token (``ghp_...`` classic, else ``github_pat_...`` fine-grained)."""
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}")
        if login.lower() in self.users:
            raise ValueError(f"user {login} exists")
        prefix = "ghp_" if classic else "github_pat_"
        token = prefix + secrets.token_hex(18)
        scopes = ("repo", "read:org", "workflow") if classic else ()
        user = User(login, self.ids.next(), token, permission, not classic, scopes, now_iso())
        self.users[login.lower()] = user
        self.tokens[token] = user
        return user

    def user(self, login: str) -> User:
        """The user with this login, made on first mention (without a token) if unknown."""
        found = self.users.get(login.lower())
        if found is None:
            found = User(login, self.ids.next(), "", "none", True, (), now_iso())
            self.users[login.lower()] = found
        return found

    # -- repositories -------------------------------------------------------------------

    def create_repo(
        self,
        full_name: str,
        default_branch: str = "main",
        files: dict[str, str | bytes] | None = None,
        private: bool = False,
    ) -> Repo:
        """A repository with a bare git repository holding one commit of ``files``."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name or name.endswith(".git"):
            raise ValueError(f"repository name must be owner/name, not {full_name!r}")
        if full_name.lower() in self.repos:
            raise ValueError(f"repository {full_name} exists")
        self.user(owner)
        path = self.root / "repos" / owner / f"{name}.git"
        create_bare(path, default_branch, files or {"README.md": f"# {name}\n"})
        repo = Repo(self.ids.next(), owner, name, path, default_branch, private, now_iso())
        self.repos[full_name.lower()] = repo
        return repo

    def repo(self, full_name: str) -> Repo:
        """The repository named owner/name (KeyError if none)."""
        return self.repos[full_name.lower()]

    # -- events -------------------------------------------------------------------------

    def emit(self, event: str, action: str, repo: Repo, payload: dict[str, object]) -> None:
        """Tell the listeners (webhooks) about a change."""
        for listener in list(self.listeners):
            listener(event, action, repo, payload)

    def add_event(self, repo: Repo, issue: Issue, event: Event) -> None:
        """Append an issue event."""
        repo.events.setdefault(issue.number, []).append(event)

    # -- issues ---------------------------------------------------------------------------

    def open_issue(
        self,
        repo: Repo,
        title: str,
        body: str | None,
        user: str,
        labels: list[str] | tuple[str, ...] = (),
        assignees: list[str] | tuple[str, ...] = (),
    ) -> Issue:
        """A new open issue; its labels are applied by its author (with ``labeled`` events)."""
        stamp = now_iso()
        issue = Issue(self.ids.next(), repo.next_number(), title, body, user, stamp, stamp)
        issue.assignees = list(assignees)
        repo.issues[issue.number] = issue
        self.emit("issues", "opened", repo, {"issue": issue})
        for name in labels:
            self.add_label(repo, issue, name, user)
        return issue

    def ensure_label(self, repo: Repo, name: str) -> Label:
        """The repository's label named ``name`` (case-insensitive), made if missing."""
        for label in repo.labels.values():
            if label.name.lower() == name.lower():
                return label
        label = Label(self.ids.next(), name, DEFAULT_LABEL_COLOR, None)
        repo.labels[name] = label
        return label

    def create_label(
        self,
        repo: Repo,
        name: str,
        color: str = DEFAULT_LABEL_COLOR,
        description: str | None = None,
    ) -> Label:
        """A new repository label; 422 ``already_exists`` if the name is taken."""
        if any(label.name.lower() == name.lower() for label in repo.labels.values()):
            raise ApiError(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = Label(self.ids.next(), name, color.lstrip("#").lower(), description)
        repo.labels[name] = label
        return label

    def add_label(self, repo: Repo, issue: Issue, name: str, actor: str) -> bool:
        """Put a label on an issue (a ``labeled`` event); False if it was there."""
        label = self.ensure_label(repo, name)
        if label.name in issue.labels:
            return False
        issue.labels.append(label.name)
        self._touch(issue)
        event = Event(self.ids.next(), "labeled", actor, now_iso(), label.name, label.color)
        self.add_event(repo, issue, event)
        self._emit_issue(repo, issue, "labeled", actor, {"label": label})
        return True

    def remove_label(self, repo: Repo, issue: Issue, name: str, actor: str) -> bool:
        """Take a label off an issue (an ``unlabeled`` event); False if it was not there."""
        match = next((n for n in issue.labels if n.lower() == name.lower()), None)
        if match is None:
            return False
        issue.labels.remove(match)
        self._touch(issue)
        color = repo.labels[match].color
        event = Event(self.ids.next(), "unlabeled", actor, now_iso(), match, color)
        self.add_event(repo, issue, event)
        self._emit_issue(repo, issue, "unlabeled", actor, {"label": repo.labels[match]})
        return True

    def set_state(
        self, repo: Repo, issue: Issue, state: str, actor: str, reason: str | None = None
    ) -> None:
        """Close or reopen an issue (a ``closed``/``reopened`` event)."""
        if state == issue.state:
            return
        issue.state = state
        self._touch(issue)
        if state == "closed":
            issue.closed_at = issue.updated_at
            issue.closed_by = actor
            issue.state_reason = reason or "completed"
        else:
            issue.closed_at = None
            issue.closed_by = None
            issue.state_reason = "reopened"
        action = "closed" if state == "closed" else "reopened"
        commit = issue.pull.merge_commit_sha if issue.pull and issue.pull.merged else None
        self.add_event(
            repo, issue, Event(self.ids.next(), action, actor, now_iso(), commit_id=commit)
        )
        self._emit_issue(repo, issue, action, actor, {})

    def edit_issue(
        self,
        repo: Repo,
        issue: Issue,
        actor: str,
        *,
        title: str | None = None,
        body: str | None = None,
    ) -> None:
        """Change an issue's title (a ``renamed`` event with ``rename.from``/``to``) or body (a
        version in its edit history, as GraphQL's ``userContentEdits`` lists it: the first
        edit also keeps the version it was created with, by its author)."""
        changed = False
        if title is not None and title != issue.title:
            rename = {"from": issue.title, "to": title}
            issue.title = title
            event = Event(self.ids.next(), "renamed", actor, now_iso(), rename=rename)
            self.add_event(repo, issue, event)
            changed = True
        if body is not None and body != issue.body:
            if not issue.edits:
                issue.edits.append(Edit(self.ids.next(), issue.created_at, issue.user))
            issue.body = body
            issue.edits.append(Edit(self.ids.next(), now_iso(), actor))
            changed = True
        if changed:
            self._touch(issue)
            self._emit_issue(repo, issue, "edited", actor, {})

    def add_comment(self, repo: Repo, issue: Issue, user: str, body: str) -> Comment:
        """A new comment on an issue or pull request."""
        stamp = now_iso()
        comment = Comment(self.ids.next(), issue.number, user, body, stamp, stamp)
        repo.comments[comment.id] = comment
        self._touch(issue)
        self.emit("issue_comment", "created", repo, {"issue": issue, "comment": comment})
        return comment

    def pushed(self, repo: Repo, before: dict[str, str], after: dict[str, str], actor: str) -> None:
        """After a push: a ``push`` event per moved branch, ``synchronize`` for its pulls."""
        zero = "0" * 40
        for branch in sorted(set(before) | set(after)):
            old, new = before.get(branch, zero), after.get(branch, zero)
            if old == new:
                continue
            ref = f"refs/heads/{branch}"
            self.emit("push", "", repo, {"ref": ref, "before": old, "after": new, "sender": actor})
            for issue in repo.pulls():
                assert issue.pull is not None
                if issue.state == "open" and issue.pull.head == branch and new != zero:
                    issue.pull.head_sha = new
                    self._touch(issue)
                    payload = {"issue": issue, "sender": actor, "before": old, "after": new}
                    self.emit("pull_request", "synchronize", repo, payload)

    def _touch(self, issue: Issue) -> None:
        self.touch(issue)

    def touch(self, issue: Issue) -> None:
        """The issue or pull request changed: its ``updated_at`` moves on (by a second at
        least, so that two changes in one second still change it and its ETags)."""
        now = now_iso()
        if now <= issue.updated_at:
            moved = datetime.strptime(issue.updated_at, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=1)
            now = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
        issue.updated_at = now

    def _emit_issue(
        self, repo: Repo, issue: Issue, action: str, actor: str, extra: dict[str, object]
    ) -> None:
        kind = "pull_request" if issue.pull else "issues"
        self.emit(kind, action, repo, {"issue": issue, "sender": actor, **extra})
