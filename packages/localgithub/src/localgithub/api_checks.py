"""CI results: check runs and commit statuses."""

from __future__ import annotations

from aiohttp import web

from localgithub import git
from localgithub.errors import not_found, validation
from localgithub.http import (
    body_object,
    get_repo,
    gh,
    int_param,
    json_response,
    paginate,
    require_user,
    text_field,
)
from localgithub.model import CheckRun, Json, Repo, Status, now_iso

routes = web.RouteTableDef()
REPO = "/repos/{owner}/{repo}"
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)
STATUS_STATES = ("error", "failure", "pending", "success")


def apply_check_fields(run: CheckRun, data: Json) -> None:
    """Copy a create/update body's fields onto a check run (422 for bad values)."""
    status = data.get("status", run.status)
    conclusion = data.get("conclusion", run.conclusion)
    if status not in CHECK_STATUSES:
        raise validation("CheckRun", "status", "invalid")
    if conclusion is not None:
        if conclusion not in CONCLUSIONS:
            raise validation("CheckRun", "conclusion", "invalid")
        status = "completed"
    elif status == "completed":
        raise validation("CheckRun", "conclusion", "missing_field")
    run.status, run.conclusion = status, conclusion
    if status == "completed" and run.completed_at is None:
        run.completed_at = str(data.get("completed_at") or now_iso())
    for key in ("name", "details_url", "external_id", "started_at"):
        if key in data:
            setattr(run, key, text_field(data, key, "CheckRun", required=key == "name"))
    output = data.get("output")
    if isinstance(output, dict):
        run.output = {k: output.get(k) for k in ("title", "summary", "text")}


@routes.post(REPO + "/check-runs")
async def create_check_run(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/check-runs: name, head_sha, status, conclusion, output..."""
    repo = get_repo(request, "write")
    require_user(request)
    data = await body_object(request)
    name = text_field(data, "name", "CheckRun", required=True) or ""
    head = text_field(data, "head_sha", "CheckRun", required=True) or ""
    sha = await git.resolve(repo.path, head)
    if sha is None or sha != head.lower():
        raise validation("CheckRun", "head_sha", "invalid", "No commit found for SHA: " + head)
    world = gh(request).world
    run = CheckRun(world.ids.next(), sha, name, "queued", None, now_iso(), None, None, None, {})
    apply_check_fields(run, data)
    repo.check_runs[run.id] = run
    world.emit("check_run", "created", repo, {"check_run": run})
    return json_response(gh(request).render.check_run(repo, run), status=201)


def _run(request: web.Request, repo: Repo) -> CheckRun:
    run = repo.check_runs.get(int_param(request, "id"))
    if run is None:
        raise not_found()
    return run


@routes.get(REPO + "/check-runs/{id:\\d+}")
async def get_check_run(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/check-runs/{id}."""
    repo = get_repo(request)
    return json_response(gh(request).render.check_run(repo, _run(request, repo)))


@routes.patch(REPO + "/check-runs/{id:\\d+}")
async def update_check_run(request: web.Request) -> web.Response:
    """PATCH /repos/{o}/{r}/check-runs/{id}."""
    repo = get_repo(request, "write")
    run = _run(request, repo)
    was = run.status
    apply_check_fields(run, await body_object(request))
    action = "completed" if run.status == "completed" and was != "completed" else "updated"
    gh(request).world.emit("check_run", action, repo, {"check_run": run})
    return json_response(gh(request).render.check_run(repo, run))


async def _ref_sha(repo: Repo, ref: str) -> str:
    sha = await git.resolve(repo.path, ref)
    if sha is None:
        raise validation("Commit", "sha", "invalid", f"No commit found for SHA: {ref}")
    return sha


@routes.get(REPO + "/commits/{ref:.+}/check-runs")
async def list_check_runs(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/check-runs: check_name, status, filter (latest|all)."""
    repo = get_repo(request)
    sha = await _ref_sha(repo, request.match_info["ref"])
    runs = sorted((r for r in repo.check_runs.values() if r.head_sha == sha), key=lambda r: -r.id)
    query = request.query
    if query.get("filter", "latest") == "latest":
        newest: dict[str, CheckRun] = {}
        for run in runs:
            newest.setdefault(run.name, run)
        runs = list(newest.values())
    if "check_name" in query:
        runs = [r for r in runs if r.name == query["check_name"]]
    if "status" in query:
        runs = [r for r in runs if r.status == query["status"]]
    render = gh(request).render
    page, headers = paginate(request, runs)
    body = {"total_count": len(runs), "check_runs": [render.check_run(repo, r) for r in page]}
    return json_response(body, headers=headers)


@routes.post(REPO + "/statuses/{sha}")
async def create_status(request: web.Request) -> web.Response:
    """POST /repos/{o}/{r}/statuses/{sha}: state, target_url, description, context."""
    repo = get_repo(request, "write")
    user = require_user(request)
    data = await body_object(request)
    state = data.get("state")
    if state not in STATUS_STATES:
        raise validation("Status", "state", "invalid" if state else "missing_field")
    sha = await git.resolve(repo.path, request.match_info["sha"])
    if sha is None or not sha.startswith(request.match_info["sha"].lower()):
        missing = request.match_info["sha"]
        raise validation("Status", "sha", "invalid", f"No commit found for SHA: {missing}")
    stamp = now_iso()
    status = Status(
        gh(request).world.ids.next(),
        sha,
        str(state),
        text_field(data, "context", "Status") or "default",
        text_field(data, "description", "Status"),
        text_field(data, "target_url", "Status"),
        user.login,
        stamp,
        stamp,
    )
    repo.statuses.append(status)
    gh(request).world.emit("status", "created", repo, {"status": status})
    return json_response(gh(request).render.status(repo, status), status=201)


@routes.get(REPO + "/commits/{ref:.+}/statuses")
async def list_statuses(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/statuses, newest first."""
    repo = get_repo(request)
    sha = await _ref_sha(repo, request.match_info["ref"])
    statuses = [s for s in reversed(repo.statuses) if s.sha == sha]
    render = gh(request).render
    page, headers = paginate(request, statuses)
    return json_response([render.status(repo, s) for s in page], headers=headers)


@routes.get(REPO + "/commits/{ref:.+}/status")
async def combined_status(request: web.Request) -> web.Response:
    """GET /repos/{o}/{r}/commits/{ref}/status: the latest status per context, combined."""
    repo = get_repo(request)
    sha = await _ref_sha(repo, request.match_info["ref"])
    latest: dict[str, Status] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status
    return json_response(gh(request).render.combined_status(repo, sha, list(latest.values())))
