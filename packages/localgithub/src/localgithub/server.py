"""LocalGitHub: a local GitHub REST API with real git repositories, for tests."""

from __future__ import annotations

import logging
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiohttp import web

from localgithub.app import API_PREFIX, build_app
from localgithub.faults import Fault, Faults
from localgithub.git import GitError
from localgithub.model import CheckRun, Issue, RateLimit, Repo, Review, ReviewComment, Status, User
from localgithub.model import now_iso as _now
from localgithub.payloads import Render
from localgithub.webhooks import Webhooks
from localgithub.world import World

log = logging.getLogger(__name__)
REVIEW_EVENTS = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server answered: its method, path (without /api/v3), status, query."""

    method: str
    path: str
    status: int
    query: str = ""


class LocalGitHub:
    """A GitHub on 127.0.0.1: the REST API at :attr:`api_url`, git at ``{url}/owner/name.git``.

    ``root`` holds the bare repositories. Use ``async with LocalGitHub(tmp_path) as gh:``, then
    ``gh.create_repo``, ``gh.add_user`` (a token), ``gh.open_issue``... and point a client at
    ``gh.api_url`` with the token.
    """

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.world = World(Path(root))
        self.requests: list[RecordedRequest] = []
        self.webhooks = Webhooks(self)
        self.faults = Faults()
        self._host = host
        self._port = port
        self._anonymous: dict[str, RateLimit] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.render = Render("", "", self.world.user)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the host and the port (0: a free one)."""
        runner = web.AppRunner(build_app(self), handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.render = Render(self.api_url, self.url, self.world.user)
        log.info("localgithub listening on %s", self.url)

    async def close(self) -> None:
        """Stop listening (and deliver no more webhooks); hanging answers are let go."""
        self.faults.release_all()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalGitHub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def api_url(self) -> str:
        """The REST API's base URL (like GitHub Enterprise's ``https://host/api/v3``)."""
        return f"{self.url}{API_PREFIX}"

    def clone_url(self, full_name: str) -> str:
        """``{url}/owner/name.git``."""
        repo = self.world.repo(full_name)
        return f"{self.url}/{repo.full_name}.git"

    def authed_clone_url(self, full_name: str, token: str) -> str:
        """The clone URL with ``x-access-token:<token>@`` in it, as GitHub accepts."""
        return self.clone_url(full_name).replace("://", f"://x-access-token:{token}@", 1)

    # -- requests and rate limits ----------------------------------------------------------------

    def record(self, method: str, path: str, status: int, query: str = "") -> None:
        """Remember one answered request (``requests``)."""
        self.requests.append(RecordedRequest(method, path, status, query))

    def rate_of(self, user: User | None, remote: str) -> RateLimit:
        """The primary rate limit a request counts against (per user, or per address)."""
        if user is not None:
            return user.rate
        if remote not in self._anonymous:
            self._anonymous[remote] = RateLimit(limit=self.world.anonymous_limit)
        return self._anonymous[remote]

    def rate_limit(
        self,
        *,
        remaining: int = 0,
        reset_in: float = 3600.0,
        login: str | None = None,
        limit: int | None = None,
    ) -> None:
        """Set the rate limit left (every user's, or ``login``'s) until ``reset_in`` seconds."""
        users = [self.world.users[login.lower()]] if login else list(self.world.users.values())
        for user in users:
            rate = user.rate
            rate.limit = limit if limit is not None else rate.limit
            rate.used = max(0, rate.limit - remaining)
            rate.reset = int(time.time() + reset_in)

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 502,
        after: bool = True,
        hang: bool = False,
        times: int = 1,
    ) -> Fault:
        """Fail the next ``times`` requests of ``method`` on API paths matching the glob
        ``path`` (without ``/api/v3``): ``after`` lets each take effect and then answers
        ``status`` (a lost answer), else it is refused before doing anything; ``hang`` holds
        the answer until ``fault.release()``. See :class:`localgithub.faults.Fault`."""
        return self.faults.add(Fault(method, path, status, after, hang, times))

    # -- set-up helpers -------------------------------------------------------------------------

    def add_user(self, login: str, permission: str = "write", *, classic: bool = False) -> str:
        """Add a user with ``permission`` (none|read|write|admin) on every repository; its token.

        ``classic``: a ``ghp_`` token whose responses carry ``X-OAuth-Scopes``; else a
        fine-grained ``github_pat_`` token (no scopes header).
        """
        return self.world.add_user(login, permission, classic=classic).token

    def create_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        files: dict[str, str | bytes] | None = None,
        private: bool = False,
    ) -> Repo:
        """A repository whose bare git repository has one commit of ``files``."""
        return self.world.create_repo(full_name, default_branch, files, private)

    def repo(self, full_name: str) -> Repo:
        """The repository named owner/name."""
        return self.world.repo(full_name)

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        """The sha a branch of the bare repository points at (None if no such branch)."""
        result = subprocess.run(
            [
                "git",
                "-C",
                str(self.repo(full_name).path),
                "rev-parse",
                "--verify",
                "--quiet",
                f"refs/heads/{branch}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or None

    def open_issue(
        self,
        full_name: str,
        title: str,
        body: str | None = None,
        *,
        user: str | None = None,
        labels: list[str] | tuple[str, ...] = (),
        labeled_by: str | None = None,
    ) -> Issue:
        """Open an issue as ``user`` (default: the owner); its labels are applied by
        ``labeled_by`` (default: the author), each with a ``labeled`` event."""
        repo = self.repo(full_name)
        author = user or repo.owner
        issue = self.world.open_issue(repo, title, body, author)
        for name in labels:
            self.world.add_label(repo, issue, name, labeled_by or author)
        return issue

    def issue(self, full_name: str, number: int) -> Issue:
        """An issue or pull request by number."""
        return self.repo(full_name).issues[number]

    def label_issue(self, full_name: str, number: int, name: str, *, actor: str) -> None:
        """``actor`` puts a label on an issue (a ``labeled`` event)."""
        repo = self.repo(full_name)
        self.world.add_label(repo, repo.issues[number], name, actor)

    def unlabel_issue(self, full_name: str, number: int, name: str, *, actor: str) -> None:
        """``actor`` takes a label off an issue (an ``unlabeled`` event)."""
        repo = self.repo(full_name)
        self.world.remove_label(repo, repo.issues[number], name, actor)

    def edit_issue(
        self,
        full_name: str,
        number: int,
        *,
        actor: str,
        title: str | None = None,
        body: str | None = None,
    ) -> None:
        """``actor`` edits an issue's title (a ``renamed`` event) or body (its edit history)."""
        repo = self.repo(full_name)
        self.world.edit_issue(repo, repo.issues[number], actor, title=title, body=body)

    def close_issue(self, full_name: str, number: int, *, actor: str | None = None) -> None:
        """Close an issue (a ``closed`` event)."""
        repo = self.repo(full_name)
        self.world.set_state(repo, repo.issues[number], "closed", actor or repo.owner)

    def comment(self, full_name: str, number: int, body: str, *, user: str) -> int:
        """Add a comment to an issue or pull request; its id."""
        repo = self.repo(full_name)
        return self.world.add_comment(repo, repo.issues[number], user, body).id

    def add_sub_issue(self, full_name: str, parent: int, child: int) -> None:
        """Make issue ``child`` a sub-issue of ``parent``."""
        self.repo(full_name).issues[child].parent = parent

    def set_check(
        self,
        full_name: str,
        sha: str,
        name: str,
        conclusion: str | None,
        log_text: str = "",
        *,
        title: str | None = None,
        details_url: str | None = None,
    ) -> CheckRun:
        """Record a check run on ``sha``: completed with ``conclusion``, or in progress if None.
        ``log_text`` becomes ``output.text`` (the log a client shows)."""
        repo = self.repo(full_name)
        stamp = _now()
        run = CheckRun(
            self.world.ids.next(),
            sha,
            name,
            "completed" if conclusion else "in_progress",
            conclusion,
            stamp,
            stamp if conclusion else None,
            details_url or f"{self.url}/{repo.full_name}/actions/runs/{name}",
            None,
            {
                "title": title or f"{name}: {conclusion or 'running'}",
                "summary": "",
                "text": log_text,
            },
        )
        repo.check_runs[run.id] = run
        self.world.emit(
            "check_run", "completed" if conclusion else "created", repo, {"check_run": run}
        )
        return run

    def set_status(
        self,
        full_name: str,
        sha: str,
        state: str,
        context: str = "default",
        *,
        description: str | None = None,
        target_url: str | None = None,
        creator: str | None = None,
    ) -> Status:
        """Record a commit status on ``sha``."""
        repo = self.repo(full_name)
        stamp = _now()
        status = Status(
            self.world.ids.next(),
            sha,
            state,
            context,
            description,
            target_url,
            creator or repo.owner,
            stamp,
            stamp,
        )
        repo.statuses.append(status)
        return status

    def submit_review(
        self,
        full_name: str,
        number: int,
        *,
        user: str,
        event: str,
        body: str = "",
        comments: list[tuple[str, int, str]] | tuple[tuple[str, int, str], ...] = (),
    ) -> Review:
        """``user`` submits a review (APPROVE|REQUEST_CHANGES|COMMENT) with (path, line, body)
        comments on the pull request's head."""
        repo = self.repo(full_name)
        issue = repo.issues[number]
        if issue.pull is None:
            raise GitError(f"#{number} is not a pull request")
        head = self.branch_sha(full_name, issue.pull.head) or issue.pull.head_sha
        review = Review(
            self.world.ids.next(), number, user, REVIEW_EVENTS[event], body, head, _now()
        )
        repo.reviews[review.id] = review
        self.world.touch(issue)  # a submitted review updates the pull request
        for path, line, text in comments:
            comment = ReviewComment(
                self.world.ids.next(),
                review.id,
                number,
                user,
                path,
                line,
                "RIGHT",
                None,
                text,
                head,
                review.submitted_at,
            )
            repo.review_comments[comment.id] = comment
        self.world.emit(
            "pull_request_review", "submitted", repo, {"issue": issue, "review": review}
        )
        return review

    # -- webhooks -------------------------------------------------------------------------------

    def add_webhook(self, url: str, secret: str, events: tuple[str, ...] = ("*",)) -> None:
        """POST events to ``url`` signed with ``secret`` (``X-Hub-Signature-256``)."""
        self.webhooks.add(url, secret, events)
