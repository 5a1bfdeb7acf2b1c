"""Real git over smart HTTP (clone, push), pull requests and real merges in the bare repo."""

from __future__ import annotations

from pathlib import Path

from ghtest import REPO, Scene, git


async def _clone(scene: Scene, tmp_path: Path, token: str | None = None) -> Path:
    work = tmp_path / "work"
    url = scene.gh.authed_clone_url(REPO, token) if token else scene.gh.clone_url(REPO)
    await git(tmp_path, "clone", "--quiet", url, str(work))
    return work


async def _push_branch(work: Path, branch: str, files: dict[str, str], base: str = "main") -> str:
    await git(work, "checkout", "--quiet", "-B", branch, f"origin/{base}")
    for name, text in files.items():
        (work / name).write_text(text)
    await git(work, "add", "--all")
    await git(work, "commit", "--quiet", "-m", f"change {', '.join(files)}")
    await git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return (await git(work, "rev-parse", "HEAD")).stdout.strip()


async def test_clone_anonymously_but_push_needs_a_write_token(scene: Scene, tmp_path: Path) -> None:
    work = await _clone(scene, tmp_path)
    assert (work / "app.py").read_text() == "print('hi')\n"
    (work / "new.txt").write_text("x\n")
    await git(work, "add", "new.txt")
    await git(work, "commit", "--quiet", "-m", "new")
    refused = await git(work, "push", "origin", "HEAD:refs/heads/anon", check=False)
    assert refused.returncode != 0
    bob_url = scene.gh.authed_clone_url(REPO, scene.tokens["bob"])
    refused = await git(work, "push", bob_url, "HEAD:refs/heads/bob", check=False)
    assert refused.returncode != 0 and "denied to bob" in refused.stderr
    bad_url = scene.gh.authed_clone_url(REPO, "ghp_not_a_token")
    refused = await git(work, "push", bad_url, "HEAD:refs/heads/bad", check=False)
    assert refused.returncode != 0
    alice_url = scene.gh.authed_clone_url(REPO, scene.tokens["alice"])
    await git(work, "push", "--quiet", alice_url, "HEAD:refs/heads/feature")
    head = (await git(work, "rev-parse", "HEAD")).stdout.strip()
    assert scene.gh.branch_sha(REPO, "feature") == head
    assert scene.gh.branch_sha(REPO, "anon") is None
    assert scene.gh.branch_sha(REPO, "bob") is None


async def test_pull_request_merge_closes_the_issue(scene: Scene, tmp_path: Path) -> None:
    issue = scene.gh.open_issue(REPO, "Add a feature", "please")
    work = await _clone(scene, tmp_path, scene.tokens["alice"])
    head = await _push_branch(work, "feature", {"feature.py": "x = 1\n"})
    created = await scene.alice.post(
        f"/repos/{REPO}/pulls",
        {
            "title": "Feature",
            "head": "feature",
            "base": "main",
            "body": f"Closes #{issue.number}",
            "draft": True,
        },
    )
    assert created.status == 201, created.body
    pull = created.body
    assert (pull["head"]["ref"], pull["head"]["sha"], pull["base"]["ref"]) == (
        "feature",
        head,
        "main",
    )
    assert pull["draft"] is True and pull["merged"] is False and pull["mergeable"] is True
    assert (pull["commits"], pull["changed_files"], pull["additions"]) == (1, 1, 1)
    number = pull["number"]
    files = await scene.alice.get(f"/repos/{REPO}/pulls/{number}/files")
    assert [(f["filename"], f["status"]) for f in files.body] == [("feature.py", "added")]
    assert "+x = 1" in files.body[0]["patch"]
    commits = await scene.alice.get(f"/repos/{REPO}/pulls/{number}/commits")
    assert [c["sha"] for c in commits.body] == [head]
    listed = await scene.alice.get(f"/repos/{REPO}/pulls?head=acme:feature&state=open")
    assert [p["number"] for p in listed.body] == [number]
    as_issue = await scene.alice.get(f"/repos/{REPO}/issues?state=all")
    assert "pull_request" in next(i for i in as_issue.body if i["number"] == number)

    draft = await scene.alice.put(f"/repos/{REPO}/pulls/{number}/merge", {"sha": head})
    assert draft.status == 405
    ready = await scene.alice.post(
        "/graphql",
        {
            "query": "mutation($id: ID!) { markPullRequestReadyForReview(input: "
            "{pullRequestId: $id}) { pullRequest { isDraft } } }",
            "variables": {"id": pull["node_id"]},
        },
    )
    assert ready.body["data"]["markPullRequestReadyForReview"]["pullRequest"]["isDraft"] is False
    stale = await scene.alice.put(f"/repos/{REPO}/pulls/{number}/merge", {"sha": "0" * 40})
    assert stale.status == 409
    merged = await scene.alice.put(
        f"/repos/{REPO}/pulls/{number}/merge", {"sha": head, "merge_method": "merge"}
    )
    assert merged.status == 200, merged.body
    assert merged.body["merged"] is True
    main = scene.gh.branch_sha(REPO, "main")
    assert main == merged.body["sha"]
    parents = (await git(work, "ls-remote", scene.gh.clone_url(REPO), "refs/heads/main")).stdout
    assert parents.split()[0] == main
    await git(work, "fetch", "--quiet", "origin")
    shown = await git(work, "show", "--no-patch", "--format=%P", "origin/main")
    assert head in shown.stdout.split()
    after = await scene.alice.get(f"/repos/{REPO}/pulls/{number}")
    assert after.body["merged"] is True and after.body["state"] == "closed"
    assert after.body["merge_commit_sha"] == main
    events = await scene.alice.get(f"/repos/{REPO}/issues/{number}/events")
    assert [e["event"] for e in events.body][-2:] == ["merged", "closed"]
    assert events.body[-1]["commit_id"] == main
    closed = await scene.alice.get(f"/repos/{REPO}/issues/{issue.number}")
    assert closed.body["state"] == "closed"
    again = await scene.alice.put(f"/repos/{REPO}/pulls/{number}/merge", {})
    assert again.status == 405


async def test_conflict_is_405_and_leaves_the_base_alone(scene: Scene, tmp_path: Path) -> None:
    work = await _clone(scene, tmp_path, scene.tokens["alice"])
    await _push_branch(work, "one", {"app.py": "print('one')\n"})
    await _push_branch(work, "two", {"app.py": "print('two')\n"})
    first = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "one", "head": "one", "base": "main"}
    )
    second = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "two", "head": "two", "base": "main"}
    )
    squash = await scene.alice.put(
        f"/repos/{REPO}/pulls/{first.body['number']}/merge", {"merge_method": "squash"}
    )
    assert squash.status == 200
    main = scene.gh.branch_sha(REPO, "main")
    shown = await scene.alice.get(f"/repos/{REPO}/pulls/{second.body['number']}")
    assert shown.body["mergeable"] is False and shown.body["mergeable_state"] == "dirty"
    refused = await scene.alice.put(f"/repos/{REPO}/pulls/{second.body['number']}/merge", {})
    assert refused.status == 405
    assert refused.body["message"] == "Pull Request is not mergeable"
    assert scene.gh.branch_sha(REPO, "main") == main


async def test_pull_request_validation(scene: Scene, tmp_path: Path) -> None:
    missing = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "x", "head": "nope", "base": "main"}
    )
    assert missing.status == 422
    assert missing.body["message"] == "Validation Failed"
    assert missing.body["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    same = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "x", "head": "main", "base": "main"}
    )
    assert same.status == 422 and "No commits between" in same.body["errors"][0]["message"]
    work = await _clone(scene, tmp_path, scene.tokens["alice"])
    await _push_branch(work, "f", {"f.txt": "f\n"})
    ok = await scene.alice.post(f"/repos/{REPO}/pulls", {"title": "x", "head": "f", "base": "main"})
    assert ok.status == 201
    dup = await scene.alice.post(
        f"/repos/{REPO}/pulls", {"title": "x", "head": "f", "base": "main"}
    )
    assert dup.status == 422 and "already exists" in dup.body["errors"][0]["message"]
    not_writer = await scene.bob.put(f"/repos/{REPO}/pulls/{ok.body['number']}/merge", {})
    assert not_writer.status == 403
    nothing = await scene.alice.get(f"/repos/{REPO}/pulls/999")
    assert nothing.status == 404
