"""The GitHub REST client: gidgethub (sans-I/O) over one httpx connection pool.

Every GET goes through gidgethub's cache: the ETag of the last answer is sent as
``If-None-Match`` and a ``304 Not Modified`` (which GitHub does not count against the rate
limit) returns the cached data, so an idle repository costs almost nothing. A rate limit
that is used up raises :class:`RateLimited` with the reset time; the caller waits. The token
is sent only in the ``Authorization`` header; no error text, log line or repr holds it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from gidgethub import BadRequest, GitHubException, HTTPException, RateLimitExceeded
from gidgethub import abc as gh_abc

from core.errors import SwarmError
from core.formats.timetext import local_text
from core.github.settings import GitHubSettings
from core.privacy.redact import redact_urls

log = logging.getLogger(__name__)
TIMEOUT_S = 20.0
ACCEPT = "application/vnd.github+json"
CACHE_SIZE = 2000


class GitHubError(SwarmError):
    """GitHub refused or could not be reached; the message is fit to show (no token)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact_urls(message))
        self.status = status


class RateLimited(GitHubError):
    """The rate limit is used up until ``reset_at`` (epoch seconds)."""

    def __init__(self, message: str, reset_at: float) -> None:
        super().__init__(message, 403)
        self.reset_at = reset_at


class _Api(gh_abc.GitHubAPI):
    """gidgethub over httpx; counts the requests it makes and keeps the last headers."""

    def __init__(self, client: httpx.AsyncClient, token: str, base_url: str) -> None:
        super().__init__(
            "swarm", oauth_token=token, cache=_BoundedCache(CACHE_SIZE), base_url=base_url
        )
        self._client = client
        self.requests = 0
        self.not_modified = 0
        self.last_headers: Mapping[str, str] = {}

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        response = await self._client.request(method, url, headers=dict(headers), content=body)
        self.requests += 1
        self.not_modified += response.status_code == 304
        self.last_headers = response.headers
        return response.status_code, response.headers, response.content

    async def sleep(self, seconds: float) -> None:

        await asyncio.sleep(seconds)


class _BoundedCache(dict[str, Any]):
    """The ETag cache: at most ``size`` URLs (the oldest go first)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self and len(self) >= self.size:
            del self[next(iter(self))]
        super().__setitem__(key, value)


@dataclass(frozen=True)
class TokenCheck:
    """What ``GET /user`` and the repository say about the token."""

    login: str
    scopes: str | None  # X-OAuth-Scopes (classic tokens); None for fine-grained ones
    permission: str  # admin, maintain, write, triage, read
    remaining: int | None
    limit: int | None
    reset_at: float | None


class GitHub:
    """The calls swarm makes on one repository (``settings.repo``) with one token."""

    def __init__(self, settings: GitHubSettings, transport: httpx.AsyncBaseTransport | None = None):
        settings.require()
        self.settings = settings
        self.repo = f"/repos/{settings.repo}"
        self._http = httpx.AsyncClient(timeout=TIMEOUT_S, transport=transport)
        self.api = _Api(self._http, settings.token or "", settings.api_url)
        self._login: str | None = None

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def requests(self) -> int:
        """Requests sent so far (``304`` answers included)."""
        return self.api.requests

    # -- plumbing ----------------------------------------------------------------------

    async def get(self, url: str, **params: Any) -> Any:
        """One GET (conditional when seen before)."""
        return await self._call("GET", url, params)

    async def get_all(self, url: str, **params: Any) -> list[Any]:
        """Every page of a list (each page conditional)."""
        try:
            return [item async for item in self.api.getiter(_with_query(url, params))]
        except (HTTPException, GitHubException, httpx.HTTPError) as exc:
            raise _error("GET", url, exc, self.settings.api_url) from None

    async def post(self, url: str, data: Any, **params: Any) -> Any:
        """One POST with a JSON body."""
        return await self._call("POST", url, params, data)

    async def patch(self, url: str, data: Any, **params: Any) -> Any:
        """One PATCH with a JSON body."""
        return await self._call("PATCH", url, params, data)

    async def put(self, url: str, data: Any, **params: Any) -> Any:
        """One PUT with a JSON body."""
        return await self._call("PUT", url, params, data)

    async def delete(self, url: str, **params: Any) -> None:
        """One DELETE."""
        await self._call("DELETE", url, params)

    async def _call(self, method: str, url: str, params: Mapping[str, Any], data: Any = b"") -> Any:
        api = self.api
        full = _with_query(url, params)
        try:
            if method == "GET":
                return await api.getitem(full)
            if method == "POST":
                return await api.post(full, data=data)
            if method == "PATCH":
                return await api.patch(full, data=data)
            if method == "PUT":
                return await api.put(full, data=data)
            return await api.delete(full)
        except (HTTPException, GitHubException, httpx.HTTPError) as exc:
            raise _error(method, url, exc, self.settings.api_url) from None

    # -- the token ---------------------------------------------------------------------

    async def check(self) -> TokenCheck:
        """Who the token is, what it may do on the repository, the rate limit left."""
        user = await self.get("/user")
        scopes = self.api.last_headers.get("x-oauth-scopes")
        repo = await self.get(self.repo)
        perms = repo.get("permissions") or {}
        permission = next(
            (p for p in ("admin", "maintain", "push", "triage", "pull") if perms.get(p)), "none"
        )
        limit = self.api.rate_limit
        return TokenCheck(
            login=str(user.get("login", "?")),
            scopes=scopes,
            permission={"push": "write", "pull": "read"}.get(permission, permission),
            remaining=limit.remaining if limit else None,
            limit=limit.limit if limit else None,
            reset_at=limit.reset_datetime.timestamp() if limit else None,
        )

    async def default_branch(self) -> str:
        """The repository's default branch."""
        return str((await self.get(self.repo)).get("default_branch") or "main")

    # -- issues ------------------------------------------------------------------------

    async def labelled_issues(self) -> list[dict[str, Any]]:
        """Open issues (not pull requests) with the label, oldest first."""
        found = await self.get_all(
            f"{self.repo}/issues",
            labels=self.settings.label,
            state="open",
            sort="created",
            direction="asc",
            per_page=100,
        )
        return [i for i in found if "pull_request" not in i]

    async def issue(self, number: int) -> dict[str, Any]:
        """One issue."""
        result: dict[str, Any] = await self.get(f"{self.repo}/issues/{number}")
        return result

    async def sub_issues(self, number: int) -> list[int]:
        """The numbers of an issue's sub-issues (none when the API does not know them)."""
        try:
            found = await self.get_all(f"{self.repo}/issues/{number}/sub_issues", per_page=100)
        except GitHubError as exc:
            if exc.status in (404, 410):
                return []
            raise
        return [int(i["number"]) for i in found if "number" in i]

    async def issue_events(self, number: int) -> list[dict[str, Any]]:
        """An issue's events (``labeled`` with its actor, ``renamed``...), oldest first."""
        return await self.get_all(f"{self.repo}/issues/{number}/events", per_page=100)

    async def issue_edits(self, number: int) -> dict[str, Any]:
        """Who edited an issue's body and when (GraphQL's ``userContentEdits``: REST does
        not say): ``createdAt``, ``includesCreatedEdit`` and ``userContentEdits``."""
        query = (
            "query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, "
            "name: $name) { issue(number: $number) { createdAt includesCreatedEdit "
            "userContentEdits(first: 100) { totalCount nodes { editedAt editor { login } } } "
            "} } }"
        )
        try:
            found = await self.api.graphql(
                query,
                endpoint=self.settings.graphql_url,
                owner=self.settings.owner,
                name=self.settings.name,
                number=number,
            )
        except (HTTPException, GitHubException, httpx.HTTPError) as exc:
            raise _error("POST", "/graphql", exc, self.settings.api_url) from None
        issue: dict[str, Any] = ((found or {}).get("repository") or {}).get("issue") or {}
        return issue

    async def login(self) -> str:
        """The token's own login (asked once): what swarm wrote carries it."""
        if self._login is None:
            self._login = str((await self.get("/user")).get("login") or "")
        return self._login

    async def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """The comments of an issue or PR, oldest first."""
        return await self.get_all(f"{self.repo}/issues/{number}/comments", per_page=100)

    async def permission(self, login: str) -> str:
        """``admin``, ``maintain``, ``write``, ``triage``, ``read`` or ``none``."""
        try:
            found = await self.get(f"{self.repo}/collaborators/{login}/permission")
        except GitHubError as exc:
            if exc.status == 404:
                return "none"
            raise
        return str(found.get("role_name") or found.get("permission") or "none")

    async def comment(self, number: int, body: str) -> int:
        """A new comment on an issue or PR; its id."""
        made = await self.post(f"{self.repo}/issues/{number}/comments", {"body": body})
        return int(made["id"])

    async def edit_comment(self, comment_id: int, body: str) -> None:
        """Replace a comment's text."""
        await self.patch(f"{self.repo}/issues/comments/{comment_id}", {"body": body})

    async def add_labels(self, number: int, labels: list[str]) -> None:
        """Add labels to an issue."""
        await self.post(f"{self.repo}/issues/{number}/labels", {"labels": labels})

    async def remove_label(self, number: int, label: str) -> None:
        """Remove one label (absent: nothing)."""

        try:
            await self.delete(f"{self.repo}/issues/{number}/labels/{quote(label, safe='')}")
        except GitHubError as exc:
            if exc.status != 404:
                raise

    # -- pull requests ------------------------------------------------------------------

    async def open_pull(
        self, head: str, base: str, title: str, body: str, draft: bool
    ) -> dict[str, Any]:
        """Open a PR from ``head`` into ``base`` (one already open for ``head``: that one)."""
        owner = self.settings.owner
        existing = await self.get(f"{self.repo}/pulls", head=f"{owner}:{head}", state="open")
        if existing:
            result: dict[str, Any] = existing[0]
            return result
        made: dict[str, Any] = await self.post(
            f"{self.repo}/pulls",
            {"head": head, "base": base, "title": title, "body": body, "draft": draft},
        )
        return made

    async def open_pulls(self) -> dict[int, dict[str, Any]]:
        """The repository's open PRs by number (one conditional list: ``304`` when none
        changed; a push or a submitted review changes a PR's ``updated_at``)."""
        found = await self.get_all(f"{self.repo}/pulls", state="open", per_page=100)
        return {int(p["number"]): p for p in found}

    async def pull(self, number: int) -> dict[str, Any]:
        """One PR."""
        result: dict[str, Any] = await self.get(f"{self.repo}/pulls/{number}")
        return result

    async def checks(self, sha: str) -> list[Check]:
        """The check runs and commit statuses of ``sha`` (latest status per context)."""
        runs = await self.get(f"{self.repo}/commits/{sha}/check-runs", per_page=100)
        found = [
            Check(
                name=str(r.get("name")),
                state=_run_state(r),
                details=str((r.get("output") or {}).get("text") or "")
                or str((r.get("output") or {}).get("summary") or ""),
                url=str(r.get("details_url") or r.get("html_url") or ""),
            )
            for r in runs.get("check_runs", [])
        ]
        combined = await self.get(f"{self.repo}/commits/{sha}/status")
        for status in combined.get("statuses", []):
            state = str(status.get("state"))
            found.append(
                Check(
                    name=str(status.get("context")),
                    state={"success": "success", "pending": "pending"}.get(state, "failure"),
                    details=str(status.get("description") or ""),
                    url=str(status.get("target_url") or ""),
                )
            )
        return found

    async def reviews(self, number: int) -> list[dict[str, Any]]:
        """The reviews of a PR, oldest first."""
        return await self.get_all(f"{self.repo}/pulls/{number}/reviews", per_page=100)

    async def review_comments(self, number: int, review_id: int) -> list[dict[str, Any]]:
        """The comments of one review."""
        return await self.get_all(
            f"{self.repo}/pulls/{number}/reviews/{review_id}/comments", per_page=100
        )

    async def pull_files(self, number: int) -> list[dict[str, Any]]:
        """The files a PR changes, with their ``patch`` (the diff's hunks)."""
        return await self.get_all(f"{self.repo}/pulls/{number}/files", per_page=100)

    async def post_review(self, number: int, review: dict[str, Any]) -> int:
        """Submit a review (``event``, ``body``, ``comments`` on lines); its id."""
        made = await self.post(f"{self.repo}/pulls/{number}/reviews", review)
        return int(made["id"])

    async def mark_ready(self, node_id: str) -> None:
        """Mark a draft PR ready for review (GraphQL only: REST cannot)."""
        query = (
            "mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) "
            "{ pullRequest { isDraft } } }"
        )
        try:
            await self.api.graphql(query, endpoint=self.settings.graphql_url, id=node_id)
        except (HTTPException, GitHubException, httpx.HTTPError) as exc:
            raise _error("POST", "/graphql", exc, self.settings.api_url) from None

    async def close_pull(self, number: int) -> None:
        """Close a PR (not merged)."""
        await self.patch(f"{self.repo}/pulls/{number}", {"state": "closed"})

    async def merge(self, number: int, sha: str, title: str) -> dict[str, Any]:
        """Merge a PR whose head is ``sha`` (GitHub refuses when it moved)."""
        result: dict[str, Any] = await self.put(
            f"{self.repo}/pulls/{number}/merge",
            {"sha": sha, "merge_method": "merge", "commit_title": title},
        )
        return result


@dataclass(frozen=True)
class Check:
    """One check run or commit status: ``success``, ``pending`` or ``failure``."""

    name: str
    state: str
    details: str
    url: str


def _with_query(url: str, params: Mapping[str, Any]) -> str:
    """``url?name=value...`` (gidgethub's ``url_vars`` fill URI templates, not queries)."""
    if not params:
        return url

    return f"{url}?{urlencode({k: str(v) for k, v in params.items()})}"


def _run_state(run: Mapping[str, Any]) -> str:
    if run.get("status") != "completed":
        return "pending"
    return "success" if run.get("conclusion") in {"success", "neutral", "skipped"} else "failure"


def _error(method: str, url: str, exc: Exception, base: str) -> GitHubError:
    """A one-line error naming the call and GitHub's answer (never a header or the token)."""
    if isinstance(exc, RateLimitExceeded):
        reset = exc.rate_limit.reset_datetime.timestamp()
        error: GitHubError = RateLimited(
            f"GitHub rate limit used up until {local_text(reset, '%H:%M:%S')}",
            reset,
        )
    elif isinstance(exc, HTTPException):
        status = int(exc.status_code)
        detail = str(exc) or getattr(exc.status_code, "phrase", "")
        if status == 401:
            detail = "bad credentials (GITHUB_TOKEN is wrong or expired)"
        error = GitHubError(f"GitHub {method} {url}: {status} {detail}", status)
        if isinstance(exc, BadRequest) and status == 429:
            error = RateLimited(f"GitHub {method} {url}: 429 too many requests", time.time() + 60)
    elif isinstance(exc, httpx.HTTPError):
        error = GitHubError(f"GitHub {method} {url}: cannot reach {base} ({type(exc).__name__})")
    else:
        error = GitHubError(f"GitHub {method} {url}: {exc}")
    return error
