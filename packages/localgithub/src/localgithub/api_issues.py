"""Issues, labels, issue events, comments, sub-issues and collaborator permissions."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiMapping

from localgithub.errors import ApiError, forbidden, not_found, validation
from localgithub.http import (
    body_json,
    body_object,
    can,
    get_issue,
    get_repo,
    gh,
    int_param,
    json_response,
    paginate,
    require_user,
    text_field,
)
from localgithub.model import Issue, Json, Repo, now_iso

routes = web.RouteTableDef()
REPO = "/repos/{owner}/{repo}"
ISSUE = REPO + "/issues/{number:\\d+}"


def _render_issue(request: web.Request, repo: Repo, issue: Issue) -> Json:
    return gh(request).render.issue(repo, issue)


@routes.get(REPO + "/issues")
async def list_issues(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues (pull requests included, as on GitHub)."""
    repo = get_repo(request)
    query = request.query
    issues = [i for i in repo.issues.values() if _matches(i, query)]
    key = query.get("sort", "created")
    if key not in ("created", "updated", "comments"):
        raise validation("Issue", "sort", "invalid")
    issues.sort(key=lambda i: _sort_key(repo, i, key), reverse=query.get("direction") != "asc")
    page, headers = paginate(request, issues)
    return json_response([_render_issue(request, repo, i) for i in page], headers=headers)


def _matches(issue: Issue, query: MultiMapping[str]) -> bool:
    state = query.get("state", "open")
    if state != "all" and issue.state != state:
        return False
    wanted = [name.strip().lower() for name in query.get("labels", "").split(",") if name.strip()]
    have = {name.lower() for name in issue.labels}
    if any(name not in have for name in wanted):
        return False
    since = query.get("since")
    if since and issue.updated_at < since.replace("+00:00", "Z"):
        return False
    creator = query.get("creator")
    if creator and issue.user.lower() != creator.lower():
        return False
    return _assignee_matches(issue, query.get("assignee"))


def _assignee_matches(issue: Issue, assignee: str | None) -> bool:
    if assignee is None or (assignee == "*" and issue.assignees):
        return True
    if assignee == "none":
        return not issue.assignees
    if assignee == "*":
        return False
    return assignee.lower() in (a.lower() for a in issue.assignees)


def _sort_key(repo: Repo, issue: Issue, key: str) -> tuple[object, int]:
    if key == "updated":
        return issue.updated_at, issue.number
    if key == "comments":
        count = sum(1 for c in repo.comments.values() if c.issue == issue.number)
        return count, issue.number
    return issue.created_at, issue.number


@routes.get(ISSUE)
async def get_one(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}."""
    repo = get_repo(request)
    return json_response(_render_issue(request, repo, get_issue(request, repo)))


@routes.post(REPO + "/issues")
async def create_issue(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues; labels and assignees only from users with push access."""
    repo = get_repo(request)
    user = require_user(request)
    data = await body_object(request)
    title = text_field(data, "title", "Issue", required=True)
    assert title is not None
    body = text_field(data, "body", "Issue")
    writer = can(repo, user, "write")
    labels = _names(data.get("labels")) if writer else []
    assignees = _names(data.get("assignees")) if writer else []
    issue = gh(request).world.open_issue(repo, title, body, user.login, labels, assignees)
    return json_response(_render_issue(request, repo, issue), status=201)


def _names(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise validation("Issue", "labels", "invalid")
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise validation("Label", "name", "invalid")
        names.append(name)
    return names


@routes.patch(ISSUE)
async def update_issue(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/issues/{n}: title, body, state, state_reason, labels, assignees."""
    repo = get_repo(request)
    user = require_user(request)
    issue = get_issue(request, repo)
    writer = can(repo, user, "write")
    if not writer and issue.user.lower() != user.login.lower():
        raise forbidden("Must have admin rights to Repository.")
    data = await body_object(request)
    world = gh(request).world
    title = text_field(data, "title", "Issue", required="title" in data)
    body = text_field(data, "body", "Issue") if "body" in data else None
    world.edit_issue(repo, issue, user.login, title=title, body=body)
    if "body" in data and data["body"] is None:
        issue.body = None  # cleared
    if writer and "labels" in data:
        wanted = _names(data["labels"])
        for name in list(issue.labels):
            if name.lower() not in {w.lower() for w in wanted}:
                world.remove_label(repo, issue, name, user.login)
        for name in wanted:
            world.add_label(repo, issue, name, user.login)
    if writer and "assignees" in data:
        issue.assignees = _names(data["assignees"])
    state = data.get("state")
    if state is not None:
        if state not in ("open", "closed"):
            raise validation("Issue", "state", "invalid")
        world.set_state(repo, issue, state, user.login, data.get("state_reason"))
    return json_response(_render_issue(request, repo, issue))


# -- labels --------------------------------------------------------------------------------


@routes.get(REPO + "/labels")
async def list_labels(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/labels."""
    repo = get_repo(request)
    render = gh(request).render
    page, headers = paginate(request, list(repo.labels.values()))
    return json_response([render.label(repo, label) for label in page], headers=headers)


@routes.get(REPO + "/labels/{name}")
async def get_label(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/labels/{name}."""
    repo = get_repo(request)
    name = request.match_info["name"].lower()
    label = next((lb for lb in repo.labels.values() if lb.name.lower() == name), None)
    if label is None:
        raise not_found()
    return json_response(gh(request).render.label(repo, label))


@routes.post(REPO + "/labels")
async def create_label(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/labels: name, color, description."""
    repo = get_repo(request, "write")
    data = await body_object(request)
    name = text_field(data, "name", "Label", required=True)
    assert name is not None
    color = text_field(data, "color", "Label") or "ededed"
    description = text_field(data, "description", "Label")
    label = gh(request).world.create_label(repo, name, color, description)
    return json_response(gh(request).render.label(repo, label), status=201)


@routes.get(ISSUE + "/labels")
async def issue_labels(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/labels."""
    repo = get_repo(request)
    return _labels_of(request, repo, get_issue(request, repo))


def _labels_of(request: web.Request, repo: Repo, issue: Issue) -> web.Response:
    render = gh(request).render
    return json_response([render.label(repo, repo.labels[n]) for n in issue.labels])


async def _label_names(request: web.Request) -> list[str]:
    data = await body_json(request)
    if isinstance(data, dict):
        data = data.get("labels", [])
    if isinstance(data, str):
        data = [data]
    return _names(data)


@routes.post(ISSUE + "/labels")
async def add_labels(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues/{n}/labels: add labels (made if missing); all labels back."""
    repo = get_repo(request, "write")
    issue = get_issue(request, repo)
    actor = require_user(request).login
    for name in await _label_names(request):
        gh(request).world.add_label(repo, issue, name, actor)
    return _labels_of(request, repo, issue)


@routes.put(ISSUE + "/labels")
async def set_labels(request: web.Request) -> web.Response:
    """PUT /repos/{o}/{r}/issues/{n}/labels: replace the labels."""
    repo = get_repo(request, "write")
    issue = get_issue(request, repo)
    actor = require_user(request).login
    wanted = await _label_names(request)
    world = gh(request).world
    for name in list(issue.labels):
        if name.lower() not in {w.lower() for w in wanted}:
            world.remove_label(repo, issue, name, actor)
    for name in wanted:
        world.add_label(repo, issue, name, actor)
    return _labels_of(request, repo, issue)


@routes.delete(ISSUE + "/labels/{name}")
async def remove_label(request: web.Request) -> web.Response:
    """DELETE /repos/{o}/{r}/issues/{n}/labels/{name}: the remaining labels back."""
    repo = get_repo(request, "write")
    issue = get_issue(request, repo)
    actor = require_user(request).login
    if not gh(request).world.remove_label(repo, issue, request.match_info["name"], actor):
        raise ApiError(404, "Label does not exist")
    return _labels_of(request, repo, issue)


@routes.delete(ISSUE + "/labels")
async def remove_all_labels(request: web.Request) -> web.Response:
    """DELETE /repos/{o}/{r}/issues/{n}/labels: 204."""
    repo = get_repo(request, "write")
    issue = get_issue(request, repo)
    actor = require_user(request).login
    for name in list(issue.labels):
        gh(request).world.remove_label(repo, issue, name, actor)
    return web.Response(status=204)


# -- events, permissions, sub-issues ----------------------------------------------------------


@routes.get(ISSUE + "/events")
async def list_events(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/events, oldest first."""
    repo = get_repo(request)
    issue = get_issue(request, repo)
    render = gh(request).render
    page, headers = paginate(request, repo.events.get(issue.number, []))
    return json_response([render.event(repo, event) for event in page], headers=headers)


@routes.get(REPO + "/collaborators/{user}/permission")
async def collaborator_permission(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/collaborators/{user}/permission."""
    repo = get_repo(request)
    user = gh(request).world.users.get(request.match_info["user"].lower())
    if user is None:
        raise not_found()
    return json_response(gh(request).render.permission(repo, user))


@routes.get(ISSUE + "/sub_issues")
async def list_sub_issues(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/sub_issues."""
    repo = get_repo(request)
    parent = get_issue(request, repo)
    children = [i for i in repo.issues.values() if i.parent == parent.number]
    page, headers = paginate(request, children)
    return json_response([_render_issue(request, repo, i) for i in page], headers=headers)


@routes.post(ISSUE + "/sub_issues")
async def add_sub_issue(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues/{n}/sub_issues: ``sub_issue_id`` is the child's id."""
    repo = get_repo(request, "write")
    parent = get_issue(request, repo)
    data = await body_object(request)
    child_id = data.get("sub_issue_id")
    child = next((i for i in repo.issues.values() if i.id == child_id), None)
    if child is None or child.pull is not None:
        raise validation("Issue", "sub_issue_id", "invalid")
    if child.parent is not None and not data.get("replace_parent"):
        raise validation("Issue", "sub_issue_id", "custom", "Issue may only have one parent")
    child.parent = parent.number
    return json_response(_render_issue(request, repo, parent), status=201)


# -- comments -----------------------------------------------------------------------------


@routes.get(ISSUE + "/comments")
async def list_comments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/{n}/comments (``since``), oldest first."""
    repo = get_repo(request)
    issue = get_issue(request, repo)
    since = request.query.get("since", "")
    comments = [
        c for c in repo.comments.values() if c.issue == issue.number and c.updated_at >= since
    ]
    render = gh(request).render
    page, headers = paginate(request, comments)
    return json_response([render.comment(repo, c) for c in page], headers=headers)


@routes.post(ISSUE + "/comments")
async def create_comment(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/issues/{n}/comments: ``body``."""
    repo = get_repo(request)
    user = require_user(request)
    issue = get_issue(request, repo)
    body = text_field(await body_object(request), "body", "IssueComment", required=True)
    assert body is not None
    comment = gh(request).world.add_comment(repo, issue, user.login, body)
    return json_response(gh(request).render.comment(repo, comment), status=201)


def _own_comment(request: web.Request, repo: Repo) -> int:
    comment_id = int_param(request, "id")
    comment = repo.comments.get(comment_id)
    if comment is None:
        raise not_found()
    user = require_user(request)
    if comment.user.lower() != user.login.lower() and not can(repo, user, "write"):
        raise forbidden()
    return comment_id


@routes.get(REPO + "/issues/comments/{id:\\d+}")
async def get_comment(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/issues/comments/{id}."""
    repo = get_repo(request)
    comment = repo.comments.get(int_param(request, "id"))
    if comment is None:
        raise not_found()
    return json_response(gh(request).render.comment(repo, comment))


@routes.patch(REPO + "/issues/comments/{id:\\d+}")
async def update_comment(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/issues/comments/{id}: ``body``."""
    repo = get_repo(request)
    comment = repo.comments[_own_comment(request, repo)]
    body = text_field(await body_object(request), "body", "IssueComment", required=True)
    assert body is not None
    comment.body = body
    comment.updated_at = now_iso()
    return json_response(gh(request).render.comment(repo, comment))


@routes.delete(REPO + "/issues/comments/{id:\\d+}")
async def delete_comment(request: web.Request) -> web.Response:
    """DELETE /repos/{o}/{r}/issues/comments/{id}: 204."""
    repo = get_repo(request)
    del repo.comments[_own_comment(request, repo)]
    return web.Response(status=204)
