"""A task's diff while it is worked on holds the files its agent created and did not
``git add`` (as new files, binary and large ones named only, bounded in count), read on real
git without changing the worktree's index; a done task's diff keeps them while they are
as it left them (``test_own_diff``: never another task's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.workspaces import _untracked as untracked
from core.workspaces._manager import InitRequest, init
from tests.workspaces.conftest import commit_file, sh

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(60)]
AGENT = "Agent-1"


async def _working(service: SwarmService, repo: Path) -> tuple[int, Path]:
    """A task started by the agent in its worktree."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=(AGENT,)))
    task = await service.tasks.create(TaskSpec("add the feature", agent=AGENT), "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    await service.tasks.start(task.id, AGENT)
    return task.id, home / "workspaces" / "project" / AGENT


async def test_the_diff_holds_the_agents_untracked_files(repo: Path, service: SwarmService) -> None:
    task, tree = await _working(service, repo)
    commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    (tree / "notes").mkdir()
    (tree / "notes" / "new file.md").write_text("# new\nnot added\n", encoding="utf-8")
    (tree / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    (tree / "big.txt").write_text("a line\n" * 100_000, encoding="utf-8")
    (tree / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (tree / "run.log").write_text("ignored\n", encoding="utf-8")
    index = sh(tree, "ls-files", "--stage")
    diff = await service.workspaces.diff(task)
    assert "+FEATURE = 1" in diff and "+not added" in diff and "+*.log" in diff
    assert "Binary files /dev/null and b/blob.bin differ" in diff
    assert "Binary files /dev/null and b/big.txt differ" in diff and "+a line" not in diff
    assert "run.log" not in diff
    files = {f.path: f for f in (await service.reviews.diff(task)).files}
    assert set(files) == {"feature.py", "notes/new file.md", "blob.bin", "big.txt", ".gitignore"}
    assert files["notes/new file.md"].status == "added"
    assert [line.text for line in files["notes/new file.md"].lines][1:] == ["# new", "not added"]
    assert files["blob.bin"].binary and not files["blob.bin"].lines
    # the user's index as it was: the files still untracked
    assert sh(tree, "ls-files", "--stage") == index
    assert "?? blob.bin" in sh(tree, "status", "--porcelain")
    await service.tasks.complete(task, AGENT, "done")
    done = await service.workspaces.diff(task)
    assert done == diff  # what it left uncommitted is still its own, said not committed
    assert "(not committed: in the worktree only, which task merge does not bring)" in done


async def test_untracked_files_are_bounded_in_count(
    repo: Path, service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(untracked, "MAX_FILES", 3)
    task, tree = await _working(service, repo)
    for n in range(5):
        (tree / f"-n{n}.txt").write_text(f"file {n}\n", encoding="utf-8")
    diff = await service.workspaces.diff(task)
    assert [f.path for f in (await service.reviews.diff(task)).files] == [
        "-n0.txt", "-n1.txt", "-n2.txt",
    ]  # fmt: skip
    assert diff.endswith("(2 more untracked files not shown: git status lists them)\n")


async def test_the_cli_diff_shows_an_agents_escapes_and_runs_no_external_diff(
    repo: Path, service: SwarmService, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 77: ``swarm task diff`` prints the agent's bytes with control characters
    escaped (a cursor-up and erase would hide the line above from the reviewer), and the
    repository's ``diff.external`` and textconv never run in swarm's git."""
    import argparse

    from bot.cli.workspaces import cmd_task_diff

    task, tree = await _working(service, repo)
    marker = tmp_path / "external-ran"
    program = tmp_path / "external.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    sh(repo, "config", "diff.external", str(program))
    commit_file(tree, "evil.py", "rm -rf /\n\x1b[1A\x1b[2Kharmless = 1\n", "feature")
    await cmd_task_diff(service, argparse.Namespace(id=task))
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "+\\x1b[1A\\x1b[2Kharmless = 1" in shown, shown
    assert "+rm -rf /" in shown
    assert not marker.exists()
