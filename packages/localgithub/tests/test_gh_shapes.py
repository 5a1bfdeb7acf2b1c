"""Responses have the keys and JSON types of the example responses in GitHub's OpenAPI
description (``shapes/``, one file per operation, extracted by ``shapes/extract.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ghtest import REPO, Scene, git

SHAPES = Path(__file__).parent / "shapes"
# Keys of GitHub's examples that localgithub leaves out, each for a reason.
NOT_EMULATED = {
    "pull_request",  # on an issue: only when the issue is a pull request, as on GitHub
    "in_reply_to_id",  # on a review comment: only on replies, which are not emulated
}


def shape_problems(example: Any, ours: Any, where: str = "$") -> list[str]:
    """Where ``ours`` lacks a key of ``example`` or has another JSON type (null fits any)."""
    if example is None or ours is None:
        return []
    if _kind(example) != _kind(ours):
        return [f"{where}: {_kind(ours)} where GitHub has {_kind(example)}"]
    if isinstance(example, dict):
        problems = []
        for key, value in example.items():
            if key not in ours:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_problems(value, ours[key], f"{where}.{key}")
        return problems
    if isinstance(example, list) and example and ours:
        return shape_problems(example[0], ours[0], f"{where}[0]")
    return []


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


async def _world(scene: Scene, tmp_path: Path) -> dict[str, tuple[str, str, Any]]:
    """Make one of everything; the request that answers each operation."""
    gh = scene.gh
    issue = gh.open_issue(REPO, "Bug", "body", user="bob", labels=["bug"], labeled_by="alice")
    gh.comment(REPO, issue.number, "seen", user="alice")
    work = tmp_path / "work"
    await git(tmp_path, "clone", "-q", gh.authed_clone_url(REPO, scene.tokens["alice"]), str(work))
    await git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text("print('hello')\n")
    await git(work, "commit", "-q", "-am", "hello")
    await git(work, "push", "-q", "origin", "feature")
    pull = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "Hello", "head": "feature", "base": "main"}
    )
    number, sha = pull.body["number"], pull.body["head"]["sha"]
    review = gh.submit_review(
        REPO, number, user="carol", event="COMMENT", comments=[("app.py", 1, "ok")]
    )
    gh.set_check(REPO, sha, "tests", "success", "ok")
    gh.set_status(REPO, sha, "success", "ci")
    r = f"/repos/{REPO}"
    n = issue.number
    comment_id = next(iter(gh.repo(REPO).comments))
    return {
        "users/get-authenticated": ("GET", "/user", None),
        "rate-limit/get": ("GET", "/rate_limit", None),
        "issues/list-for-repo": ("GET", f"{r}/issues", None),
        "issues/create": ("POST", f"{r}/issues", {"title": "t", "labels": ["bug"]}),
        "issues/update": ("PATCH", f"{r}/issues/{n}", {"title": "Bug!"}),
        "issues/add-labels": ("POST", f"{r}/issues/{n}/labels", {"labels": ["x"]}),
        "issues/list-labels-for-repo": ("GET", f"{r}/labels", None),
        "issues/create-label": ("POST", f"{r}/labels", {"name": "new", "color": "ff0000"}),
        "issues/list-events": ("GET", f"{r}/issues/{n}/events", None),
        "repos/get-collaborator-permission-level": (
            "GET",
            f"{r}/collaborators/alice/permission",
            None,
        ),
        "issues/list-comments": ("GET", f"{r}/issues/{n}/comments", None),
        "issues/create-comment": ("POST", f"{r}/issues/{n}/comments", {"body": "b"}),
        "issues/update-comment": ("PATCH", f"{r}/issues/comments/{comment_id}", {"body": "c"}),
        "pulls/create": ("POST", f"{r}/pulls", None),  # answered by the pull made above
        "pulls/list": ("GET", f"{r}/pulls", None),
        "pulls/get": ("GET", f"{r}/pulls/{number}", None),
        "pulls/list-files": ("GET", f"{r}/pulls/{number}/files", None),
        "pulls/list-commits": ("GET", f"{r}/pulls/{number}/commits", None),
        "pulls/create-review": (
            "POST",
            f"{r}/pulls/{number}/reviews",
            {"event": "COMMENT", "body": "b"},
        ),
        "pulls/list-reviews": ("GET", f"{r}/pulls/{number}/reviews", None),
        "pulls/list-comments-for-review": (
            "GET",
            f"{r}/pulls/{number}/reviews/{review.id}/comments",
            None,
        ),
        "pulls/list-review-comments": ("GET", f"{r}/pulls/{number}/comments", None),
        "checks/create": (
            "POST",
            f"{r}/check-runs",
            {"name": "lint", "head_sha": sha, "conclusion": "success"},
        ),
        "checks/list-for-ref": ("GET", f"{r}/commits/{sha}/check-runs", None),
        "repos/create-commit-status": ("POST", f"{r}/statuses/{sha}", {"state": "pending"}),
        "repos/get-combined-status-for-ref": ("GET", f"{r}/commits/{sha}/status", None),
        "repos/list-commit-statuses-for-ref": ("GET", f"{r}/commits/{sha}/statuses", None),
        "pulls/merge": ("PUT", f"{r}/pulls/{number}/merge", {"sha": sha}),
    }


async def test_responses_have_githubs_shapes(scene: Scene, tmp_path: Path) -> None:
    requests = await _world(scene, tmp_path)
    created_pull = (await scene.alice.get(requests["pulls/get"][1])).body
    shapes = sorted(SHAPES.glob("*.json"))
    assert len(shapes) == len(requests)
    problems = []
    for file in shapes:
        shape = json.loads(file.read_text())
        method, path, body = requests[shape["operation"]]
        if shape["operation"] == "pulls/create":
            reply_body, status = created_pull, 201
        else:
            reply = await _caller(scene, shape["operation"]).call(method, path, body)
            reply_body, status = reply.body, reply.status
        if status != shape["status"]:
            problems.append(f"{shape['operation']}: status {status}, GitHub {shape['status']}")
            continue
        found = shape_problems(shape["example"], reply_body)
        problems += [
            f"{shape['operation']} {p}"
            for p in found
            if p.split(".")[-1].split(":")[0] not in NOT_EMULATED
        ]
        first = reply_body[0] if isinstance(reply_body, list) and reply_body else reply_body
        if isinstance(first, dict):
            extra = set(first) - set(shape["schema_properties"])
            problems += [f"{shape['operation']} $.{key}: not in GitHub's schema" for key in extra]
    assert not problems, "\n".join(problems)


def _caller(scene: Scene, operation: str) -> Any:
    """carol (admin, not the pull's author) reviews; alice does everything else."""
    return (
        scene.as_user(scene.tokens["carol"]) if operation == "pulls/create-review" else scene.alice
    )


def test_the_comparison_finds_a_missing_key_and_a_wrong_type() -> None:
    example = {"a": 1, "b": {"c": "x", "d": [{"e": True}]}, "n": None}
    assert shape_problems(example, {"a": 2, "b": {"c": "y", "d": [{"e": False}]}, "n": 3}) == []
    assert shape_problems(example, {"a": "1", "b": {"d": [{"e": 1}]}}) == [
        "$.a: str where GitHub has number",
        "$.b.c: missing",
        "$.b.d[0].e: number where GitHub has boolean",
        "$.n: missing",
    ]
