"""githubkit, unchanged but for its base URL, against the server: its models parse every
answer (pydantic validation of GitHub's schemas), its cache revalidates with ETags, and
GitHub's errors come out as githubkit's exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from ghtest import REPO, Scene, git
from githubkit import GitHub
from githubkit.exception import PrimaryRateLimitExceeded, RequestFailed

OWNER, NAME = REPO.split("/")


def _client(scene: Scene, login: str) -> GitHub:  # type: ignore[type-arg]
    return GitHub(scene.tokens[login], base_url=scene.gh.api_url, auto_retry=False)


async def test_githubkit_drives_the_issue_to_merge_loop(scene: Scene, tmp_path: Path) -> None:
    gh = scene.gh
    issue = gh.open_issue(REPO, "Task", "do it", user="bob", labels=["swarm"], labeled_by="alice")
    work = tmp_path / "work"
    await git(tmp_path, "clone", "-q", gh.authed_clone_url(REPO, scene.tokens["alice"]), str(work))
    await git(work, "checkout", "-q", "-b", "task")
    (work / "app.py").write_text("print('done')\n")
    await git(work, "commit", "-q", "-am", "do it")
    await git(work, "push", "-q", "origin", "task")
    async with _client(scene, "alice") as github, _client(scene, "carol") as reviewer:
        me = (await github.rest.users.async_get_authenticated()).parsed_data
        assert me.login == "alice"
        issues = await github.rest.issues.async_list_for_repo(OWNER, NAME, labels="swarm")
        assert [i.number for i in issues.parsed_data] == [issue.number]
        events = await github.rest.issues.async_list_events(OWNER, NAME, issue.number)
        labeled = [e for e in events.parsed_data if getattr(e, "event", None) == "labeled"]
        assert [e.actor.login for e in labeled if e.actor] == ["alice"]
        permission = await github.rest.repos.async_get_collaborator_permission_level(
            OWNER, NAME, "bob"
        )
        assert permission.parsed_data.permission == "read"
        comment = await github.rest.issues.async_create_comment(
            OWNER, NAME, issue.number, body="working"
        )
        await github.rest.issues.async_update_comment(
            OWNER, NAME, comment.parsed_data.id, body="done"
        )
        pull = await github.rest.pulls.async_create(
            OWNER, NAME, title="Task", head="task", base="main", body=f"Closes #{issue.number}"
        )
        number, sha = pull.parsed_data.number, pull.parsed_data.head.sha
        fetched = (await github.rest.pulls.async_get(OWNER, NAME, number)).parsed_data
        assert fetched.mergeable is True and fetched.head.ref == "task"
        files = await github.rest.pulls.async_list_files(OWNER, NAME, number)
        assert [f.filename for f in files.parsed_data] == ["app.py"]
        commits = await github.rest.pulls.async_list_commits(OWNER, NAME, number)
        assert [c.sha for c in commits.parsed_data] == [sha]
        await github.rest.checks.async_create(
            OWNER,
            NAME,
            name="tests",
            head_sha=sha,
            status="completed",
            conclusion="failure",
            output={"title": "1 failed", "summary": "see log", "text": "E   assert 1 == 2"},
        )
        runs = (await github.rest.checks.async_list_for_ref(OWNER, NAME, sha)).parsed_data
        assert [(r.name, r.conclusion) for r in runs.check_runs] == [("tests", "failure")]
        await github.rest.repos.async_create_commit_status(
            OWNER, NAME, sha, state="success", context="ci"
        )
        combined = await github.rest.repos.async_get_combined_status_for_ref(OWNER, NAME, sha)
        assert combined.parsed_data.state == "success"
        review = await reviewer.rest.pulls.async_create_review(
            OWNER,
            NAME,
            number,
            event="REQUEST_CHANGES",
            body="two things",
            comments=[{"path": "app.py", "line": 1, "body": "say more"}],
        )
        comments = await github.rest.pulls.async_list_comments_for_review(
            OWNER, NAME, number, review.parsed_data.id
        )
        assert [(c.path, c.line, c.body) for c in comments.parsed_data] == [
            ("app.py", 1, "say more")
        ]
        reviews = await github.rest.pulls.async_list_reviews(OWNER, NAME, number)
        assert [r.state for r in reviews.parsed_data] == ["CHANGES_REQUESTED"]
        merged = await github.rest.pulls.async_merge(OWNER, NAME, number, sha=sha)
        assert merged.parsed_data.merged is True
        closed = await github.rest.issues.async_get(OWNER, NAME, issue.number)
        assert closed.parsed_data.state == "closed"


async def test_githubkit_sees_githubs_errors(scene: Scene) -> None:
    async with GitHub("github_pat_wrong", base_url=scene.gh.api_url, auto_retry=False) as bad:
        with pytest.raises(RequestFailed) as failed:
            await bad.rest.users.async_get_authenticated()
        assert failed.value.response.status_code == 401
    scene.gh.rate_limit(remaining=0, reset_in=600, login="alice")
    async with _client(scene, "alice") as github:
        with pytest.raises(PrimaryRateLimitExceeded):
            await github.rest.issues.async_list_for_repo(OWNER, NAME)
        limits = (await github.rest.rate_limit.async_get()).parsed_data
        assert limits.resources.core.remaining == 0


async def test_githubkit_cache_revalidates_with_etags(scene: Scene) -> None:
    scene.gh.open_issue(REPO, "one")
    path = f"/repos/{REPO}/issues"
    async with _client(scene, "alice") as github:
        for _ in range(3):
            listed = await github.rest.issues.async_list_for_repo(OWNER, NAME)
            assert [i.title for i in listed.parsed_data] == ["one"]
    answered = [r.status for r in scene.gh.requests if r.path == path]
    assert answered == [200, 304, 304]  # githubkit's default cache sends If-None-Match
