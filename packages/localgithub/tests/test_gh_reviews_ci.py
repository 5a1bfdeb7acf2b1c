"""Reviews and review comments, check runs and commit statuses."""

from __future__ import annotations

from pathlib import Path

from ghtest import REPO, Scene, git


async def _pull(scene: Scene, tmp_path: Path) -> tuple[int, str]:
    work = tmp_path / "work"
    await git(
        tmp_path,
        "clone",
        "--quiet",
        scene.gh.authed_clone_url(REPO, scene.tokens["alice"]),
        str(work),
    )
    await git(work, "checkout", "--quiet", "-b", "feature")
    (work / "app.py").write_text("print('hi')\nprint('more')\n")
    (work / "lib.py").write_text("x = 1\n")
    await git(work, "add", "--all")
    await git(work, "commit", "--quiet", "-m", "feature")
    await git(work, "push", "--quiet", "origin", "feature")
    made = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "Feature", "head": "feature", "base": "main"}
    )
    return made.body["number"], made.body["head"]["sha"]


async def test_review_with_comments(scene: Scene, tmp_path: Path) -> None:
    number, head = await _pull(scene, tmp_path)
    path = f"/repos/{REPO}/pulls/{number}"
    carol = scene.as_user(scene.tokens["carol"])
    review = await carol.post(
        f"{path}/reviews",
        {
            "event": "REQUEST_CHANGES",
            "body": "Three things",
            "comments": [
                {"path": "app.py", "line": 2, "body": "why more?"},
                {"path": "lib.py", "line": 1, "body": "name it"},
                {"path": "lib.py", "line": 1, "side": "RIGHT", "body": "and type it"},
            ],
        },
    )
    assert review.status == 200, review.body
    assert (review.body["state"], review.body["commit_id"]) == ("CHANGES_REQUESTED", head)
    review_id = review.body["id"]
    comments = await carol.get(f"{path}/reviews/{review_id}/comments")
    assert [(c["path"], c["line"], c["body"]) for c in comments.body] == [
        ("app.py", 2, "why more?"),
        ("lib.py", 1, "name it"),
        ("lib.py", 1, "and type it"),
    ]
    all_comments = await scene.alice.get(f"{path}/comments")
    assert {c["pull_request_review_id"] for c in all_comments.body} == {review_id}
    scene.gh.submit_review(REPO, number, user="carol", event="APPROVE")
    listed = await scene.alice.get(f"{path}/reviews")
    assert [r["state"] for r in listed.body] == ["CHANGES_REQUESTED", "APPROVED"]
    own = await scene.alice.post(f"{path}/reviews", {"event": "APPROVE"})
    assert own.status == 422
    outside = await carol.post(
        f"{path}/reviews",
        {"event": "COMMENT", "comments": [{"path": "README.md", "line": 1, "body": "x"}]},
    )
    assert outside.status == 422
    empty = await carol.post(f"{path}/reviews", {"event": "REQUEST_CHANGES"})
    assert empty.status == 422
    pending = await carol.post(f"{path}/reviews", {"body": "draft"})
    assert pending.body["state"] == "PENDING"
    assert len((await scene.alice.get(f"{path}/reviews")).body) == 2  # not visible to others
    submitted = await carol.post(
        f"{path}/reviews/{pending.body['id']}/events", {"event": "COMMENT"}
    )
    assert submitted.body["state"] == "COMMENTED"


async def test_pull_head_follows_pushes(scene: Scene, tmp_path: Path) -> None:
    number, first = await _pull(scene, tmp_path)
    work = tmp_path / "work"
    (work / "lib.py").write_text("x = 2\n")
    await git(work, "commit", "--quiet", "-am", "fix")
    await git(work, "push", "--quiet", "origin", "feature")
    second = (await git(work, "rev-parse", "HEAD")).stdout.strip()
    pull = await scene.alice.get(f"/repos/{REPO}/pulls/{number}")
    assert pull.body["head"]["sha"] == second != first
    assert pull.body["commits"] == 2
    scene.gh.set_check(REPO, first, "tests", "failure", "old")
    runs = await scene.alice.get(f"/repos/{REPO}/commits/feature/check-runs")
    assert runs.body["total_count"] == 0  # the failure was on the old head


async def test_private_repository_is_hidden_from_strangers(scene: Scene) -> None:
    scene.gh.create_repo("acme/secret", private=True)
    scene.gh.add_user("eve", "none")
    assert (await scene.anon.get("/repos/acme/secret")).status == 404
    eve = scene.as_user(scene.gh.world.users["eve"].token)
    assert (await eve.get("/repos/acme/secret/issues")).status == 404
    assert (await scene.bob.get("/repos/acme/secret")).status == 200
    public = await eve.get(f"/repos/{REPO}")
    assert public.status == 200 and public.body["permissions"]["push"] is False


async def test_check_runs_and_statuses(scene: Scene) -> None:
    sha = scene.gh.branch_sha(REPO, "main")
    assert sha is not None
    created = await scene.alice.post(
        f"/repos/{REPO}/check-runs",
        {"name": "tests", "head_sha": sha, "status": "in_progress"},
    )
    assert created.status == 201 and created.body["conclusion"] is None
    run_id = created.body["id"]
    done = await scene.alice.patch(
        f"/repos/{REPO}/check-runs/{run_id}",
        {"conclusion": "failure", "output": {"title": "1 failed", "summary": "s", "text": "log"}},
    )
    assert (done.body["status"], done.body["conclusion"]) == ("completed", "failure")
    assert done.body["completed_at"] is not None
    scene.gh.set_check(REPO, sha, "lint", "success", "all clean")
    scene.gh.set_check(REPO, sha, "tests", "success", "passed on retry")
    runs = await scene.alice.get(f"/repos/{REPO}/commits/main/check-runs")
    assert runs.body["total_count"] == 2
    by_name = {r["name"]: r for r in runs.body["check_runs"]}
    assert by_name["tests"]["conclusion"] == "success"
    assert by_name["tests"]["output"]["text"] == "passed on retry"
    every = await scene.alice.get(f"/repos/{REPO}/commits/{sha}/check-runs?filter=all")
    assert every.body["total_count"] == 3
    failed = await scene.alice.get(f"/repos/{REPO}/check-runs/{run_id}")
    assert failed.body["output"]["text"] == "log"
    bad = await scene.alice.post(f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": "0" * 40})
    assert bad.status == 422
    incomplete = await scene.alice.post(
        f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": sha, "status": "completed"}
    )
    assert incomplete.status == 422
    reader = await scene.bob.post(f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": sha})
    assert reader.status == 403

    pending = await scene.alice.post(
        f"/repos/{REPO}/statuses/{sha}", {"state": "pending", "context": "ci/build"}
    )
    assert pending.status == 201
    combined = await scene.alice.get(f"/repos/{REPO}/commits/{sha}/status")
    assert combined.body["state"] == "pending"
    await scene.alice.post(
        f"/repos/{REPO}/statuses/{sha}", {"state": "success", "context": "ci/build"}
    )
    await scene.alice.post(f"/repos/{REPO}/statuses/{sha}", {"state": "success"})
    combined = await scene.alice.get(f"/repos/{REPO}/commits/main/status")
    assert (combined.body["state"], combined.body["total_count"]) == ("success", 2)
    scene.gh.set_status(REPO, sha, "failure", "ci/build")
    combined = await scene.alice.get(f"/repos/{REPO}/commits/main/status")
    assert combined.body["state"] == "failure"
    listed = await scene.alice.get(f"/repos/{REPO}/commits/{sha}/statuses")
    assert [s["state"] for s in listed.body] == ["failure", "success", "success", "pending"]
    invalid = await scene.alice.post(f"/repos/{REPO}/statuses/{sha}", {"state": "green"})
    assert invalid.status == 422


async def test_a_submitted_review_updates_the_pull_request(scene: Scene, tmp_path: Path) -> None:
    number, _ = await _pull(scene, tmp_path)
    listed = await scene.alice.get(f"/repos/{REPO}/pulls")
    etag, was = listed.headers["ETag"], listed.body[0]["updated_at"]
    carol = scene.as_user(scene.tokens["carol"])
    await carol.post(f"/repos/{REPO}/pulls/{number}/reviews", {"event": "COMMENT", "body": "x"})
    again = await scene.alice.get(f"/repos/{REPO}/pulls", headers={"If-None-Match": etag})
    assert again.status == 200 and again.body[0]["updated_at"] > was
    scene.gh.submit_review(REPO, number, user="carol", event="APPROVE")
    last = await scene.alice.get(f"/repos/{REPO}/pulls")
    assert last.body[0]["updated_at"] > again.body[0]["updated_at"]
