"""One branch and one pull request per GitHub task (issue 40, item 12): two issues done one
after the other by the same agent make two PRs, each from its task's own branch
(``swarm/T-<n>-<title>``, made from the base), holding only that task's commits and closing
its own issue; a CI follow-up works on the same branch and updates the same PR. Real git
against localgithub, the real scheduler, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.service.swarm import SwarmService
from core.workspaces._manager import InitRequest, init
from tests.github.conftest import REPO, World, sh
from tests.github.test_pull_requests import _checkout, _commit, _deliver, _started


@pytest.mark.both_databases
async def test_two_issues_by_one_agent_make_two_prs_of_their_own_commits(
    world: World, service: SwarmService, tmp_path: Path
) -> None:
    gh, sync = world.gh, world.sync
    repo = await _checkout(world, tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    base = gh.branch_sha(REPO, "main")

    first, tree = await _started(world, service, sync, "Add the parser")
    assert sh(tree, "branch", "--show-current").strip() == f"swarm/T-{first}-add-the-parser"
    one = _commit(tree, "parser.py", "PARSER = 1\n", "parser")
    await service.tasks.complete(first, "Agent-1", "done")
    (pr1,) = (await sync.run_pass(poll=False)).pushed

    second, _ = await _started(world, service, sync, "Document the CLI!")
    assert sh(tree, "branch", "--show-current").strip() == f"swarm/T-{second}-document-the-cli"
    assert not (tree / "parser.py").exists()  # made from the base, not from the first task
    two = _commit(tree, "CLI.md", "# CLI\n", "docs")
    await service.tasks.complete(second, "Agent-1", "done")
    (pr2,) = (await sync.run_pass(poll=False)).pushed

    assert pr1 != pr2
    for number, task_id, issue, slug, head in (
        (pr1, first, 1, "add-the-parser", one),
        (pr2, second, 3, "document-the-cli", two),  # issue #3: PR #2 took number 2
    ):
        pull = gh.issue(REPO, number)
        assert pull.pull is not None and pull.pull.head == f"swarm/T-{task_id}-{slug}"
        assert (pull.body or "").splitlines()[-1] == f"Closes #{issue}"
        commits = sh(
            tmp_path, "--git-dir", str(gh.repo(REPO).path), "rev-list", f"{base}..{head}"
        ).split()
        assert commits == [head]  # its own commit only
    assert gh.branch_sha(REPO, f"swarm/T-{first}-add-the-parser") == one  # left as it was

    gh.set_check(REPO, one, "tests", "failure", "FAILED test_parser")
    (fix,) = (await sync.run_pass()).followups  # back to Agent-1, on the first PR's branch
    await _deliver(service)
    await service.tasks.start(fix, "Agent-1")
    assert sh(tree, "branch", "--show-current").strip() == f"swarm/T-{first}-add-the-parser"
    fixed = _commit(tree, "parser.py", "PARSER = 2\n", "fix the parser")
    await service.tasks.complete(fix, "Agent-1", "fixed")
    assert (await sync.run_pass(poll=False)).pushed == [pr1]  # the same PR, updated
    assert gh.branch_sha(REPO, f"swarm/T-{first}-add-the-parser") == fixed
    assert gh.branch_sha(REPO, f"swarm/T-{second}-document-the-cli") == two
