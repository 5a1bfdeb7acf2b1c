"""The remaining endpoints: repositories, branches, users, single labels and reviews, pull
request updates and merge checks, the GraphQL draft mutations, and git access rules."""

from __future__ import annotations

from pathlib import Path

from ghtest import REPO, Scene, git


async def test_repository_branch_user_and_label(scene: Scene) -> None:
    repo = await scene.alice.get(f"/repos/{REPO}")
    assert (repo.body["full_name"], repo.body["default_branch"]) == (REPO, "main")
    assert repo.body["clone_url"] == scene.gh.clone_url(REPO)
    assert repo.body["permissions"]["push"] is True
    branch = await scene.alice.get(f"/repos/{REPO}/branches/main")
    assert branch.body["commit"]["sha"] == scene.gh.branch_sha(REPO, "main")
    assert (await scene.alice.get(f"/repos/{REPO}/branches/nope")).status == 404
    assert (await scene.alice.get("/users/bob")).body["login"] == "bob"
    assert (await scene.alice.get("/users/nobody")).status == 404
    issue = scene.gh.open_issue(REPO, "x", labels=["Bug"])
    assert (await scene.alice.get(f"/repos/{REPO}/labels/bug")).body["name"] == "Bug"
    assert (await scene.alice.get(f"/repos/{REPO}/labels/none")).status == 404
    on_issue = await scene.alice.get(f"/repos/{REPO}/issues/{issue.number}/labels")
    assert [label["name"] for label in on_issue.body] == ["Bug"]


async def test_pull_update_draft_mutations_and_merge_check(scene: Scene, tmp_path: Path) -> None:
    work = tmp_path / "work"
    await git(
        tmp_path, "clone", "-q", scene.gh.authed_clone_url(REPO, scene.tokens["alice"]), str(work)
    )
    await git(work, "checkout", "-q", "-b", "f")
    (work / "f.txt").write_text("f\n")
    await git(work, "add", "f.txt")
    await git(work, "commit", "-q", "-m", "f")
    await git(work, "push", "-q", "origin", "f")
    made = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "F", "head": "f", "base": "main"}
    )
    path = f"/repos/{REPO}/pulls/{made.body['number']}"
    renamed = await scene.alice.patch(path, {"title": "F2", "body": "why", "draft": True})
    assert (renamed.body["title"], renamed.body["body"]) == ("F2", "why")
    assert renamed.body["draft"] is False  # GitHub's REST API ignores draft here
    query = (
        'mutation { convertPullRequestToDraft(input: {pullRequestId: "%s"}) '
        "{ pullRequest { isDraft } } }"
    )
    drafted = await scene.alice.post("/graphql", {"query": query % made.body["node_id"]})
    assert drafted.body["data"]["convertPullRequestToDraft"]["pullRequest"]["isDraft"] is True
    assert (await scene.alice.get(path)).body["mergeable_state"] == "draft"
    unknown = await scene.alice.post("/graphql", {"query": "{ viewer { login } }"})
    assert unknown.status == 200 and unknown.body["errors"]
    not_author = await scene.bob.post("/graphql", {"query": query % made.body["node_id"]})
    assert not_author.body["errors"]
    assert (await scene.alice.get(f"{path}/merge")).status == 404
    closed = await scene.alice.patch(path, {"state": "closed"})
    assert closed.body["state"] == "closed" and closed.body["merged"] is False
    reopened = await scene.alice.patch(path, {"state": "open"})
    assert reopened.body["state"] == "open"
    review = scene.gh.submit_review(REPO, made.body["number"], user="carol", event="APPROVE")
    got = await scene.alice.get(f"{path}/reviews/{review.id}")
    assert got.body["state"] == "APPROVED" and got.body["user"]["login"] == "carol"
    assert (await scene.alice.get(f"{path}/reviews/1")).status == 404
    ready = await scene.alice.post(
        f"{scene.gh.url}/api/graphql",  # GitHub Enterprise's GraphQL address answers too
        {
            "query": query.replace("convertPullRequestToDraft", "markPullRequestReadyForReview")
            % made.body["node_id"]
        },
    )
    assert ready.body["data"]["markPullRequestReadyForReview"]["pullRequest"]["isDraft"] is False
    assert (await scene.alice.put(f"{path}/merge", {"merge_method": "rebase"})).status == 405
    assert (await scene.alice.put(f"{path}/merge", {"merge_method": "squash"})).status == 200
    assert (await scene.alice.get(f"{path}/merge")).status == 204


async def test_private_repository_cannot_be_cloned_by_a_stranger(
    scene: Scene, tmp_path: Path
) -> None:
    scene.gh.create_repo("acme/secret", private=True, files={"s.txt": "s\n"})
    eve = scene.gh.add_user("eve", "none")
    url = scene.gh.clone_url("acme/secret")
    stranger = url.replace("://", f"://x-access-token:{eve}@", 1)
    refused = await git(tmp_path, "clone", "-q", stranger, str(tmp_path / "a"), check=False)
    assert refused.returncode != 0
    anonymous = await git(tmp_path, "clone", "-q", url, str(tmp_path / "b"), check=False)
    assert anonymous.returncode != 0
    bob = scene.gh.authed_clone_url("acme/secret", scene.tokens["bob"])
    await git(tmp_path, "clone", "-q", bob, str(tmp_path / "c"))
    assert (tmp_path / "c" / "s.txt").read_text() == "s\n"
