"""What every API handler shares: the world, the caller, JSON in and out, pagination."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from yarl import URL

from localgithub.errors import ApiError, forbidden, not_found, validation
from localgithub.model import PERMISSIONS, Issue, Json, Repo, User

if TYPE_CHECKING:
    from localgithub.server import LocalGitHub

T = TypeVar("T")
GH_KEY: web.AppKey[LocalGitHub] = web.AppKey("localgithub")
USER_KEY: web.RequestKey[User | None] = web.RequestKey("user")


def gh(request: web.Request) -> LocalGitHub:
    """The server the request reached."""
    return request.app[GH_KEY]


def caller(request: web.Request) -> User | None:
    """The authenticated user, or None for an anonymous request."""
    return request.get(USER_KEY)


def require_user(request: web.Request) -> User:
    """The authenticated user; 401 if anonymous."""
    user = caller(request)
    if user is None:
        raise ApiError(401, "Requires authentication")
    return user


def permission_of(repo: Repo, user: User | None) -> str:
    """The caller's permission on a repository."""
    if user is None:
        return "none" if repo.private else "read"
    if user.login == repo.owner:
        return "admin"
    if user.permission == "none" and not repo.private:
        return "read"
    return user.permission


def get_repo(request: web.Request, need: str = "read") -> Repo:
    """The repository in the path; 404 if missing or hidden, 403 without ``need``."""
    name = f"{request.match_info['owner']}/{request.match_info['repo']}"
    repo = gh(request).world.repos.get(name.lower())
    if repo is None:
        raise not_found()
    have = permission_of(repo, caller(request))
    if have == "none":
        raise not_found()
    if PERMISSIONS.index(have) < PERMISSIONS.index(need):
        if need != "read" and caller(request) is None:
            raise ApiError(401, "Requires authentication")
        raise forbidden()
    return repo


def can(repo: Repo, user: User | None, need: str) -> bool:
    """Whether the user has ``need`` on the repository."""
    return PERMISSIONS.index(permission_of(repo, user)) >= PERMISSIONS.index(need)


def get_issue(request: web.Request, repo: Repo, key: str = "number") -> Issue:
    """The issue (or pull request) numbered in the path; 404 if none."""
    number = _int(request.match_info[key])
    issue = repo.issues.get(number) if number is not None else None
    if issue is None:
        raise not_found()
    return issue


def get_pull(request: web.Request, repo: Repo) -> Issue:
    """The pull request numbered in the path; 404 if none (or if it is an issue)."""
    issue = get_issue(request, repo)
    if issue.pull is None:
        raise not_found()
    return issue


async def body_json(request: web.Request) -> Any:
    """The request's JSON body ({} when empty); 400 "Problems parsing JSON" if invalid."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc


async def body_object(request: web.Request) -> Json:
    """The request's JSON body, which must be an object."""
    data = await body_json(request)
    if not isinstance(data, dict):
        raise ApiError(400, "Problems parsing JSON")
    return data


def text_field(data: Json, key: str, resource: str, *, required: bool = False) -> str | None:
    """A string field of a body: 422 if it has another type, or is missing and required."""
    value = data.get(key)
    if value is None:
        if required:
            raise validation(resource, key, "missing_field")
        return None
    if not isinstance(value, str):
        raise ApiError(
            422,
            f"Invalid request.\n\nFor 'properties/{key}', {json.dumps(value)} is not a string.",
        )
    return value


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response."""
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def paginate(request: web.Request, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """The page the query asks for (per_page, page) and its ``Link`` header."""
    per_page = min(max(_int(request.query.get("per_page", "30")) or 30, 1), 100)
    page = max(_int(request.query.get("page", "1")) or 1, 1)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    links = []
    if page < last:
        links += [_link(request.url, page + 1, "next"), _link(request.url, last, "last")]
    if page > 1:
        links = [_link(request.url, page - 1, "prev"), _link(request.url, 1, "first"), *links]
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _link(url: URL, page: int, rel: str) -> str:
    return f'<{url.update_query(page=str(page))}>; rel="{rel}"'


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def int_param(request: web.Request, key: str) -> int:
    """An integer path parameter; 404 if it is not one."""
    value = _int(request.match_info[key])
    if value is None:
        raise not_found()
    return value
