"""The authenticated user, rate limits, repositories, branches, the two GraphQL mutations
that GitHub offers only through GraphQL (draft ↔ ready for review) and the one GraphQL query
for what REST does not show: who edited an issue's body, and when (``userContentEdits``)."""

from __future__ import annotations

import re

from aiohttp import web

from localgithub import git
from localgithub.errors import ApiError, not_found
from localgithub.http import (
    body_object,
    caller,
    can,
    get_repo,
    gh,
    json_response,
    permission_of,
    require_user,
)
from localgithub.model import Issue, Json, RateLimit
from localgithub.payloads import node_id

routes = web.RouteTableDef()
RATE_RESOURCES = (
    "core",
    "search",
    "graphql",
    "integration_manifest",
    "source_import",
    "actions_runner_registration",
    "scim",
    "dependency_snapshots",
    "code_search",
    "code_scanning_autofix",
)


@routes.get("/user")
async def authenticated_user(request: web.Request) -> web.Response:
    """GET /user."""
    user = require_user(request)
    return json_response(gh(request).render.private_user(user))


@routes.get("/users/{login}")
async def get_user(request: web.Request) -> web.Response:
    """GET /users/{login}."""
    user = gh(request).world.users.get(request.match_info["login"].lower())
    if user is None:
        raise not_found()
    return json_response(gh(request).render.user(user.login))


@routes.get("/rate_limit")
async def rate_limit(request: web.Request) -> web.Response:
    """GET /rate_limit (does not count against the limit)."""
    core = gh(request).rate_of(caller(request), request.remote or "")
    core.roll()
    resources: Json = {"core": core.as_json()}
    for name in RATE_RESOURCES[1:]:
        resources[name] = RateLimit(limit=30 if "search" in name else 5000).as_json() | {
            "reset": core.reset
        }
    return json_response({"resources": resources, "rate": core.as_json()})


@routes.get("/repos/{owner}/{repo}")
async def get_repository(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}."""
    repo = get_repo(request)
    permission = permission_of(repo, caller(request))
    return json_response(gh(request).render.repo(repo, permission))


@routes.get("/repos/{owner}/{repo}/branches/{branch:.+}")
async def get_branch(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/branches/{branch}: name, commit sha, protected."""
    repo = get_repo(request)
    name = request.match_info["branch"]
    sha = await git.branch_sha(repo.path, name)
    if sha is None:
        raise ApiError(404, "Branch not found")
    base = f"{gh(request).api_url}/repos/{repo.full_name}"
    return json_response(
        {
            "name": name,
            "commit": {"sha": sha, "url": f"{base}/commits/{sha}"},
            "_links": {
                "self": f"{base}/branches/{name}",
                "html": f"{gh(request).url}/{repo.full_name}/tree/{name}",
            },
            "protected": False,
            "protection_url": f"{base}/branches/{name}/protection",
        }
    )


# -- GraphQL: only the draft mutations ---------------------------------------------------------

MUTATIONS = {"markPullRequestReadyForReview": False, "convertPullRequestToDraft": True}
_LITERAL_ID = re.compile(r'pullRequestId\s*:\s*"([^"]+)"')


@routes.post("/graphql")
async def graphql(request: web.Request) -> web.Response:
    """POST /graphql: markPullRequestReadyForReview and convertPullRequestToDraft only."""
    user = require_user(request)
    data = await body_object(request)
    query = str(data.get("query", ""))
    if "userContentEdits" in query and "mutation" not in query:
        return _issue_edits(request, query, data.get("variables"))
    name = next((m for m in MUTATIONS if m in query), None)
    if name is None:
        return _graphql_error(
            "localgithub answers only " + " and ".join(MUTATIONS) + " and an issue's edits"
        )
    pull_id = _pull_id(query, data.get("variables"))
    found = _find_pull(request, pull_id)
    if found is None:
        return _graphql_error(f"Could not resolve to a node with the global id of '{pull_id}'")
    repo_name, issue = found
    assert issue.pull is not None
    repo = gh(request).world.repo(repo_name)
    if issue.user.lower() != user.login.lower() and not can(repo, user, "write"):
        return _graphql_error("Resource not accessible by personal access token")
    issue.pull.draft = MUTATIONS[name]
    action = "converted_to_draft" if issue.pull.draft else "ready_for_review"
    gh(request).world.emit("pull_request", action, repo, {"issue": issue, "sender": user.login})
    pull = {"id": pull_id, "number": issue.number, "isDraft": issue.pull.draft}
    return json_response({"data": {name: {"pullRequest": pull}}})


def _pull_id(query: str, variables: object) -> str:
    if isinstance(variables, dict):
        for value in variables.values():
            if isinstance(value, str):
                return value
            if isinstance(value, dict) and isinstance(value.get("pullRequestId"), str):
                return str(value["pullRequestId"])
    match = _LITERAL_ID.search(query)
    return match.group(1) if match else ""


def _find_pull(request: web.Request, pull_id: str) -> tuple[str, Issue] | None:
    for repo in gh(request).world.repos.values():
        for issue in repo.pulls():
            if node_id("PR", issue.id) == pull_id:
                return repo.full_name, issue
    return None


def _graphql_error(message: str) -> web.Response:
    return json_response({"data": None, "errors": [{"message": message}]})


# -- GraphQL: an issue's edit history ------------------------------------------------------------

_LITERALS = {
    "owner": re.compile(r'owner\s*:\s*"([^"]+)"'),
    "name": re.compile(r'name\s*:\s*"([^"]+)"'),
    "number": re.compile(r"number\s*:\s*(\d+)"),
}


def _argument(query: str, variables: object, key: str) -> str:
    if isinstance(variables, dict) and key in variables:
        return str(variables[key])
    match = _LITERALS[key].search(query)
    return match.group(1) if match else ""


def _issue_edits(request: web.Request, query: str, variables: object) -> web.Response:
    """``repository(owner, name) { issue(number) { ... userContentEdits ... } }``: when and
    by whom the body was edited, newest first (GitHub's order), with ``lastEditedAt``,
    ``editor``, ``includesCreatedEdit``, ``createdAt`` and ``author`` (these fields, whatever
    the selection asks)."""
    full = f"{_argument(query, variables, 'owner')}/{_argument(query, variables, 'name')}"
    repo = gh(request).world.repos.get(full.lower())
    if repo is None or not can(repo, caller(request), "read"):
        return _graphql_error(f"Could not resolve to a Repository with the name '{full}'.")
    number = _argument(query, variables, "number")
    issue = repo.issues.get(int(number)) if number.isdigit() else None
    if issue is None:
        return _graphql_error(
            f"Could not resolve to an issue or pull request with the number of {number}."
        )
    edits = [{"editedAt": e.edited_at, "editor": {"login": e.editor}} for e in issue.edits]
    last = issue.edits[-1] if len(issue.edits) > 1 else None
    node: Json = {
        "number": issue.number,
        "createdAt": issue.created_at,
        "author": {"login": issue.user},
        "includesCreatedEdit": bool(issue.edits),
        "lastEditedAt": last.edited_at if last else None,
        "editor": {"login": last.editor} if last else None,
        "userContentEdits": {
            "totalCount": len(edits),
            "nodes": edits[::-1][:100],
        },
    }
    return json_response({"data": {"repository": {"issue": node}}})
