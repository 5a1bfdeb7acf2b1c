"""Pull requests: create, list, update, merge (a real merge in the bare repository), files,
commits, reviews and review comments."""

from __future__ import annotations

import re

from aiohttp import web

from localgithub import git
from localgithub.errors import ApiError, not_found, validation
from localgithub.http import (
    body_object,
    can,
    get_pull,
    get_repo,
    gh,
    int_param,
    json_response,
    paginate,
    require_user,
    text_field,
)
from localgithub.model import Event, Issue, Json, PullData, Repo, Review, ReviewComment, now_iso
from localgithub.payloads import Render

routes = web.RouteTableDef()
REPO = "/repos/{owner}/{repo}"
PULL = REPO + "/pulls/{number:\\d+}"
PULL_DOCS = "https://docs.github.com/rest/pulls/pulls"
CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b", re.IGNORECASE)


async def current_head(repo: Repo, issue: Issue) -> str:
    """The pull request's head sha, following pushes to its branch while it is open."""
    assert issue.pull is not None
    if issue.state == "open":
        sha = await git.branch_sha(repo.path, issue.pull.head)
        if sha:
            issue.pull.head_sha = sha
    return issue.pull.head_sha


async def render_pull(request: web.Request, repo: Repo, issue: Issue, full: bool = True) -> Json:
    """A pull request as JSON, with its live head, base, mergeability and counts."""
    return await pull_json(gh(request).render, repo, issue, full)


async def pull_json(render: Render, repo: Repo, issue: Issue, full: bool = True) -> Json:
    """A pull request as JSON (see :func:`render_pull`)."""
    assert issue.pull is not None
    head = await current_head(repo, issue)
    base = await git.branch_sha(repo.path, issue.pull.base) or ""
    mergeable: bool | None = None
    counts = (0, 0, 0, 0)
    if full:
        if issue.state == "open" and base:
            mergeable = (await git.merge_tree(repo.path, base, head)).tree is not None
        counts = await _counts(repo, issue, base, head)
    return render.pull(repo, issue, head, base, mergeable, counts, full)


async def _counts(repo: Repo, issue: Issue, base: str, head: str) -> tuple[int, int, int, int]:
    assert issue.pull is not None
    if issue.pull.merged or not base:
        return 0, 0, 0, 0
    commits = await git.log(repo.path, f"{base}..{head}")
    files = await git.changed_files(repo.path, base, head)
    adds = sum(f.additions for f in files)
    dels = sum(f.deletions for f in files)
    return len(commits), adds, dels, len(files)


def _branch_name(repo: Repo, value: str, field: str) -> str:
    owner, sep, branch = value.rpartition(":")
    if sep and owner.lower() != repo.owner.lower():
        raise _invalid(field)
    return branch


def _invalid(field: str) -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": "PullRequest", "field": field, "code": "invalid"}],
        documentation_url=f"{PULL_DOCS}#create-a-pull-request",
    )


def _custom(message: str) -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
        documentation_url=f"{PULL_DOCS}#create-a-pull-request",
    )


@routes.post(REPO + "/pulls")
async def create_pull(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/pulls: title, head, base, body, draft, maintainer_can_modify."""
    repo = get_repo(request)
    user = require_user(request)
    data = await body_object(request)
    head_value = text_field(data, "head", "PullRequest", required=True) or ""
    base_value = text_field(data, "base", "PullRequest", required=True) or ""
    title = text_field(data, "title", "PullRequest", required=True) or ""
    head = _branch_name(repo, head_value, "head")
    base = _branch_name(repo, base_value, "base")
    head_sha = await git.branch_sha(repo.path, head)
    base_sha = await git.branch_sha(repo.path, base)
    if head_sha is None:
        raise _invalid("head")
    if base_sha is None:
        raise _invalid("base")
    if not await git.log(repo.path, f"{base_sha}..{head_sha}"):
        raise _custom(f"No commits between {base} and {head}")
    for other in repo.pulls():
        assert other.pull is not None
        if other.state == "open" and other.pull.head == head and other.pull.base == base:
            raise _custom(f"A pull request already exists for {repo.owner}:{head}.")
    stamp = now_iso()
    body = text_field(data, "body", "PullRequest")
    issue_id = gh(request).world.ids.next()
    issue = Issue(issue_id, repo.next_number(), title, body, user.login, stamp, stamp)
    issue.pull = PullData(head, base, head_sha, draft=bool(data.get("draft", False)))
    issue.pull.maintainer_can_modify = bool(data.get("maintainer_can_modify", False))
    repo.issues[issue.number] = issue
    gh(request).world.emit("pull_request", "opened", repo, {"issue": issue, "sender": user.login})
    return json_response(await render_pull(request, repo, issue), status=201)


@routes.get(REPO + "/pulls")
async def list_pulls(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls: state, head (owner:branch), base, sort, direction."""
    repo = get_repo(request)
    query = request.query
    state = query.get("state", "open")
    pulls = [p for p in repo.pulls() if state == "all" or p.state == state]
    if "head" in query:
        owner, _, branch = query["head"].rpartition(":")
        if owner and owner.lower() != repo.owner.lower():
            pulls = []
        pulls = [p for p in pulls if p.pull and p.pull.head == branch]
    if "base" in query:
        pulls = [p for p in pulls if p.pull and p.pull.base == query["base"]]
    key = "updated_at" if query.get("sort") in ("updated", "long-running") else "created_at"
    pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=query.get("direction") != "asc")
    page, headers = paginate(request, pulls)
    body = [await render_pull(request, repo, p, full=False) for p in page]
    return json_response(body, headers=headers)


@routes.get(PULL)
async def get_pull_request(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}."""
    repo = get_repo(request)
    return json_response(await render_pull(request, repo, get_pull(request, repo)))


@routes.patch(PULL)
async def update_pull(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/pulls/{n}: title, body, state, base, maintainer_can_modify."""
    repo = get_repo(request)
    user = require_user(request)
    issue = get_pull(request, repo)
    assert issue.pull is not None
    if issue.user.lower() != user.login.lower() and not can(repo, user, "write"):
        raise ApiError(403, "Must have admin rights to Repository.")
    data = await body_object(request)
    for key in ("title", "body"):
        if key in data:
            setattr(issue, key, text_field(data, key, "PullRequest", required=key == "title"))
    if "base" in data:
        base = text_field(data, "base", "PullRequest", required=True) or ""
        if await git.branch_sha(repo.path, base) is None:
            raise validation("PullRequest", "base", "invalid")
        issue.pull.base = base
    if "maintainer_can_modify" in data:
        issue.pull.maintainer_can_modify = bool(data["maintainer_can_modify"])
    issue.updated_at = now_iso()
    state = data.get("state")
    if state is not None:
        if state not in ("open", "closed") or (state == "open" and issue.pull.merged):
            raise validation("PullRequest", "state", "invalid")
        gh(request).world.set_state(repo, issue, state, user.login)
    return json_response(await render_pull(request, repo, issue))


# -- merging ------------------------------------------------------------------------------------


@routes.put(PULL + "/merge")
async def merge_pull(request: web.Request) -> web.Response:
    """PUT /repos/{o}/{r}/pulls/{n}/merge: merge_method merge|squash, sha, commit_title/message."""
    repo = get_repo(request, "write")
    user = require_user(request)
    issue = get_pull(request, repo)
    assert issue.pull is not None
    data = await body_object(request)
    method = data.get("merge_method", "merge")
    if method not in ("merge", "squash", "rebase"):
        raise validation("PullRequest", "merge_method", "invalid")
    if method == "rebase":
        raise ApiError(405, "Rebase merges are not allowed on this repository.")
    if issue.state != "open" or issue.pull.merged:
        raise ApiError(405, "Pull Request is not mergeable")
    if issue.pull.draft:
        raise ApiError(405, "Pull Request is still a draft")
    head = await current_head(repo, issue)
    if data.get("sha") not in (None, head):
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    sha = await _merge(repo, issue, head, method, data)
    pull = issue.pull
    pull.merged, pull.merged_at, pull.merged_by = True, now_iso(), user.login
    pull.merge_commit_sha = sha
    world = gh(request).world
    world.add_event(repo, issue, _merged_event(world.ids.next(), user.login, sha))
    world.set_state(repo, issue, "closed", user.login)
    if pull.base == repo.default_branch:
        _close_referenced(request, repo, issue, user.login)
    return json_response(
        {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
    )


async def _merge(repo: Repo, issue: Issue, head: str, method: str, data: Json) -> str:
    assert issue.pull is not None
    base = await git.branch_sha(repo.path, issue.pull.base)
    if base is None:
        raise ApiError(405, "Pull Request is not mergeable")
    result = await git.merge_tree(repo.path, base, head)
    if result.tree is None:
        raise ApiError(405, "Pull Request is not mergeable")
    user = _merge_author(issue)
    if method == "squash":
        title = data.get("commit_title") or f"{issue.title} (#{issue.number})"
        parents = [base]
    else:
        title = data.get("commit_title") or (
            f"Merge pull request #{issue.number} from {repo.owner}/{issue.pull.head}"
        )
        parents = [base, head]
    message = str(title) + (f"\n\n{data['commit_message']}" if data.get("commit_message") else "")
    sha = await git.commit_tree(repo.path, result.tree, parents, message, user)
    if not await git.update_branch(repo.path, issue.pull.base, sha, base):
        raise ApiError(409, "Base branch was modified. Review and try the merge again.")
    return sha


def _merge_author(issue: Issue) -> tuple[str, str]:
    """The author of a merge commit: the pull request's author."""
    return issue.user, f"{issue.user}@users.noreply.localgithub"


def _merged_event(event_id: int, actor: str, sha: str) -> Event:
    return Event(event_id, "merged", actor, now_iso(), commit_id=sha)


def _close_referenced(request: web.Request, repo: Repo, pull: Issue, actor: str) -> None:
    world = gh(request).world
    for match in CLOSING.finditer(f"{pull.title}\n{pull.body or ''}"):
        target = repo.issues.get(int(match.group(1)))
        if target is not None and target.pull is None and target.state == "open":
            world.set_state(repo, target, "closed", actor, "completed")


@routes.get(PULL + "/merge")
async def is_merged(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/merge: 204 if merged, else 404."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    if issue.pull is None or not issue.pull.merged:
        raise not_found()
    return web.Response(status=204)


@routes.get(PULL + "/files")
async def list_files(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/files."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    assert issue.pull is not None
    head = await current_head(repo, issue)
    base = await _diff_base(repo, issue)
    files = await git.changed_files(repo.path, base, head)
    render = gh(request).render
    page, headers = paginate(request, files)
    return json_response([render.changed_file(repo, head, f) for f in page], headers=headers)


async def _diff_base(repo: Repo, issue: Issue) -> str:
    assert issue.pull is not None
    if issue.pull.merged and issue.pull.merge_commit_sha:
        first_parent = await git.resolve(repo.path, f"{issue.pull.merge_commit_sha}^1")
        if first_parent:
            return first_parent
    return await git.branch_sha(repo.path, issue.pull.base) or issue.pull.head_sha


@routes.get(PULL + "/commits")
async def list_commits(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/commits, oldest first."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    head = await current_head(repo, issue)
    base = await _diff_base(repo, issue)
    commits = await git.log(repo.path, f"{base}..{head}")
    render = gh(request).render
    page, headers = paginate(request, commits)
    return json_response([render.commit(repo, c) for c in page], headers=headers)


# -- reviews ------------------------------------------------------------------------------------

REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


@routes.post(PULL + "/reviews")
async def create_review(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/pulls/{n}/reviews: event, body, commit_id, comments."""
    repo = get_repo(request)
    user = require_user(request)
    issue = get_pull(request, repo)
    data = await body_object(request)
    event = data.get("event")
    if event is not None and event not in REVIEW_STATES:
        raise validation("PullRequestReview", "event", "invalid")
    body = text_field(data, "body", "PullRequestReview") or ""
    comments = data.get("comments") or []
    if not isinstance(comments, list):
        raise validation("PullRequestReview", "comments", "invalid")
    if event == "APPROVE" and issue.user.lower() == user.login.lower():
        raise ApiError(
            422, "Unprocessable Entity", errors=["Can not approve your own pull request"]
        )
    if event in ("REQUEST_CHANGES", "COMMENT") and not body and not comments:
        kind = "request changes" if event == "REQUEST_CHANGES" else "comment"
        raise ApiError(422, "Unprocessable Entity", errors=[f"Body is required for {kind} events"])
    head = await current_head(repo, issue)
    commit_id = text_field(data, "commit_id", "PullRequestReview") or head
    paths = await _diff_paths(repo, issue)
    state = REVIEW_STATES.get(event or "", "PENDING")
    world = gh(request).world
    review = Review(world.ids.next(), issue.number, user.login, state, body, commit_id, now_iso())
    new_comments = [_review_comment(world.ids.next(), review, c, paths) for c in comments]
    repo.reviews[review.id] = review
    for comment in new_comments:
        repo.review_comments[comment.id] = comment
    if state != "PENDING":
        world.touch(issue)  # a submitted review updates the pull request, as on GitHub
        world.emit("pull_request_review", "submitted", repo, {"issue": issue, "review": review})
    return json_response(gh(request).render.review(repo, review))


async def _diff_paths(repo: Repo, issue: Issue) -> set[str]:
    head = await current_head(repo, issue)
    base = await _diff_base(repo, issue)
    return {f.filename for f in await git.changed_files(repo.path, base, head)}


def _review_comment(
    comment_id: int, review: Review, data: object, paths: set[str]
) -> ReviewComment:
    if not isinstance(data, dict):
        raise validation("PullRequestReviewComment", "comments", "invalid")
    path, body = data.get("path"), data.get("body")
    if not isinstance(path, str) or not isinstance(body, str):
        raise validation("PullRequestReviewComment", "path", "missing_field")
    if path not in paths:
        raise ApiError(422, "Unprocessable Entity", errors=["Path could not be resolved"])
    line = data.get("line", data.get("position"))
    start = data.get("start_line")
    return ReviewComment(
        comment_id,
        review.id,
        review.pull,
        review.user,
        path,
        line if isinstance(line, int) else None,
        str(data.get("side", "RIGHT")),
        start if isinstance(start, int) else None,
        body,
        review.commit_id,
        review.submitted_at,
    )


@routes.get(PULL + "/reviews")
async def list_reviews(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/reviews, oldest first."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    viewer = require_user(request).login.lower()
    reviews = [
        r
        for r in repo.reviews.values()
        if r.pull == issue.number and (r.state != "PENDING" or r.user.lower() == viewer)
    ]
    render = gh(request).render
    page, headers = paginate(request, reviews)
    return json_response([render.review(repo, r) for r in page], headers=headers)


def _review(request: web.Request, repo: Repo, issue: Issue) -> Review:
    review = repo.reviews.get(int_param(request, "id"))
    if review is None or review.pull != issue.number:
        raise not_found()
    return review


@routes.get(PULL + "/reviews/{id:\\d+}")
async def get_review(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/reviews/{id}."""
    repo = get_repo(request)
    review = _review(request, repo, get_pull(request, repo))
    return json_response(gh(request).render.review(repo, review))


@routes.get(PULL + "/reviews/{id:\\d+}/comments")
async def review_comments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/reviews/{id}/comments."""
    repo = get_repo(request)
    review = _review(request, repo, get_pull(request, repo))
    comments = [c for c in repo.review_comments.values() if c.review_id == review.id]
    render = gh(request).render
    page, headers = paginate(request, comments)
    return json_response([render.review_comment(repo, c) for c in page], headers=headers)


@routes.post(PULL + "/reviews/{id:\\d+}/events")
async def submit_review(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/pulls/{n}/reviews/{id}/events: submit a pending review."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    review = _review(request, repo, issue)
    data = await body_object(request)
    event = data.get("event")
    if review.state != "PENDING":
        raise ApiError(422, "Unprocessable Entity", errors=["Can not submit a submitted review"])
    if event not in REVIEW_STATES:
        raise validation("PullRequestReview", "event", "invalid")
    review.state = REVIEW_STATES[event]
    review.body = text_field(data, "body", "PullRequestReview") or review.body
    review.submitted_at = now_iso()
    gh(request).world.touch(issue)
    gh(request).world.emit(
        "pull_request_review", "submitted", repo, {"issue": issue, "review": review}
    )
    return json_response(gh(request).render.review(repo, review))


@routes.get(PULL + "/comments")
async def pull_comments(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/pulls/{n}/comments: the review comments of submitted reviews."""
    repo = get_repo(request)
    issue = get_pull(request, repo)
    comments = [
        c
        for c in repo.review_comments.values()
        if c.pull == issue.number and repo.reviews[c.review_id].state != "PENDING"
    ]
    render = gh(request).render
    page, headers = paginate(request, comments)
    return json_response([render.review_comment(repo, c) for c in page], headers=headers)
