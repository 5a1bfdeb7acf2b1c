"""The aiohttp application: the REST API under ``/api/v3`` and git's smart HTTP beside it."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from localgithub import api_checks, api_issues, api_misc, api_pulls
from localgithub.errors import ApiError
from localgithub.git import branches
from localgithub.http import GH_KEY, USER_KEY, can
from localgithub.httpbackend import is_push, run_backend
from localgithub.model import RateLimit, User

if TYPE_CHECKING:
    from localgithub.server import LocalGitHub

log = logging.getLogger(__name__)
API_PREFIX = "/api/v3"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(server: LocalGitHub) -> web.Application:
    """The application serving ``server``."""
    app = web.Application(middlewares=[_record])
    app[GH_KEY] = server
    api = web.Application(middlewares=[_api])
    api[GH_KEY] = server
    for module in (api_issues, api_pulls, api_checks, api_misc):
        api.add_routes(module.routes)
    app.add_subapp(API_PREFIX, api)
    graphql = web.Application(middlewares=[_api])  # also at /api/graphql, as on GitHub Enterprise
    graphql[GH_KEY] = server
    graphql.router.add_post("/graphql", api_misc.graphql)
    app.add_subapp("/api", graphql)
    app.router.add_route("*", "/{owner}/{repo}.git/{tail:.*}", _git)
    return app


@web.middleware
async def _record(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _remember(request, exc.status)
        raise
    except Exception:
        _remember(request, 500)
        raise
    _remember(request, response.status)
    return response


def _remember(request: web.Request, status: int) -> None:
    request.app[GH_KEY].record(request.method, _api_path(request), status, request.query_string)


def _api_path(request: web.Request) -> str:
    """The request's path without ``/api/v3`` (as ``requests`` and faults name it)."""
    path = request.path
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX) :] or "/"
    return path


# -- authentication -------------------------------------------------------------------------------


class BadCredentials(Exception):
    """The request carried a token the server does not know."""


def authenticate(server: LocalGitHub, header: str | None) -> User | None:
    """The user of an ``Authorization`` header (Bearer, token or Basic); None if absent."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() in ("bearer", "token"):
        token = value
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError as exc:
            raise BadCredentials from exc
        token = decoded.partition(":")[2]
    else:
        raise BadCredentials
    user = server.world.tokens.get(token)
    if user is None:
        raise BadCredentials
    return user


# -- the API middleware: auth, rate limit, ETag ---------------------------------------------------


@web.middleware
async def _api(request: web.Request, handler: Handler) -> web.StreamResponse:
    server = request.app[GH_KEY]
    try:
        user = authenticate(server, request.headers.get("Authorization"))
    except BadCredentials:
        return _with_common(ApiError(401, "Bad credentials").response(), None)
    request[USER_KEY] = user
    rate = server.rate_of(user, request.remote or "")
    rate.roll()
    counted = request.path != f"{API_PREFIX}/rate_limit"
    if counted and rate.remaining == 0:
        refused = _rate_limited(user, request.remote or "").response()
        return _with_common(_rate_headers(refused, rate), user)
    fault = server.faults.match(request.method, _api_path(request))
    if fault is not None and not fault.after:  # refused before it does anything
        fault.reached.set()
        return _with_common(_rate_headers(fault.error().response(), rate), user)
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ApiError as exc:
        response = exc.response()
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        response = ApiError(404, "Not Found").response()
    if fault is not None:  # it took effect; its answer is lost
        fault.reached.set()
        if fault.hang:
            await fault.released.wait()
        response = fault.error().response()
    if isinstance(response, web.Response) and request.method in ("GET", "HEAD"):
        response = _etag(request, response)
    if counted and response.status != 304:
        rate.used += 1
    return _with_common(_rate_headers(response, rate), user)


def _etag(request: web.Request, response: web.Response) -> web.Response:
    if response.status != 200 or response.body is None:
        return response
    body = response.body if isinstance(response.body, bytes) else b""
    tag = 'W/"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    response.headers["ETag"] = tag
    wanted = request.headers.get("If-None-Match", "")
    if tag in (t.strip() for t in wanted.split(",")) or wanted.strip() == "*":
        not_modified = web.Response(status=304)
        not_modified.headers["ETag"] = tag
        if "Link" in response.headers:
            not_modified.headers["Link"] = response.headers["Link"]
        return not_modified
    return response


def _rate_limited(user: User | None, remote: str) -> ApiError:
    request_id = uuid.uuid4().hex[:20].upper()
    if user is None:
        message = (
            f"API rate limit exceeded for {remote}. (But here's the good news: Authenticated "
            "requests get a higher rate limit. Check out the documentation for more details.)"
        )
    else:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        message = (
            f"API rate limit exceeded for user ID {user.id}. If you reach out to GitHub Support "
            f"for help, please include the request ID {request_id} and timestamp {stamp}."
        )
    docs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
    return ApiError(403, message, documentation_url=docs)


def _rate_headers(response: web.StreamResponse, rate: RateLimit) -> web.StreamResponse:
    response.headers["X-RateLimit-Limit"] = str(rate.limit)
    response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
    response.headers["X-RateLimit-Reset"] = str(rate.reset)
    response.headers["X-RateLimit-Used"] = str(rate.used)
    response.headers["X-RateLimit-Resource"] = "core"
    return response


def _with_common(response: web.StreamResponse, user: User | None) -> web.StreamResponse:
    response.headers["X-GitHub-Media-Type"] = "github.v3; format=json"
    response.headers["X-GitHub-Api-Version-Selected"] = "2022-11-28"
    response.headers["X-GitHub-Request-Id"] = uuid.uuid4().hex[:16].upper()
    if user is not None and not user.fine_grained:
        response.headers["X-OAuth-Scopes"] = ", ".join(user.scopes)
        response.headers["X-Accepted-OAuth-Scopes"] = "repo"
    return response


# -- git smart HTTP -------------------------------------------------------------------------------


async def _git(request: web.Request) -> web.StreamResponse:
    server = request.app[GH_KEY]
    full_name = f"{request.match_info['owner']}/{request.match_info['repo']}"
    repo = server.world.repos.get(full_name.lower())
    challenge = {"WWW-Authenticate": 'Basic realm="GitHub"'}
    try:
        user = authenticate(server, request.headers.get("Authorization"))
    except BadCredentials:
        return web.Response(status=401, text="Invalid username or token.\n", headers=challenge)
    if repo is None or not can(repo, user, "read"):
        if user is None:
            return web.Response(status=401, text="Authentication required\n", headers=challenge)
        return web.Response(status=404, text="Repository not found.\n")
    if is_push(request):
        if user is None:
            return web.Response(status=401, text="Authentication required\n", headers=challenge)
        if not can(repo, user, "write"):
            return web.Response(
                status=403, text=f"Permission to {repo.full_name}.git denied to {user.login}.\n"
            )
    path_info = f"/{repo.owner}/{repo.name}.git/{request.match_info['tail']}"
    login = user.login if user else None
    receiving = request.method == "POST" and request.path.endswith("/git-receive-pack")
    before = await branches(repo.path) if receiving else {}
    response = await run_backend(request, server.world.root / "repos", path_info, login)
    if receiving and login:
        server.world.pushed(repo, before, await branches(repo.path), login)
    return response
