"""File reservations enforced in git: the pre-commit hook ``swarm workspaces init`` installs in
each agent's worktree (a commit touching another agent's exclusive reservation is refused,
naming the holder and task; allowed after release; the user's own hooks still run), and
``task merge`` (a warning and an event, or refused with SWARM_RESERVATIONS=strict).
Real git, the real CLI in child processes, a real SQLite file."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidInput, ReservationConflict
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.workspaces import _reservation_hook as reservation_hook
from tests.helpers import cli_env, run_cli
from tests.workspaces.conftest import sh


async def _held(service: SwarmService, agent: str, title: str) -> int:
    task = await service.tasks.create(TaskSpec(title, agent=agent), "cli")
    await Scheduler(service, InboxDeliverer(service.settings.home / "inbox")).run_burst()
    await service.tasks.start(task.id, agent)
    return task.id


def _commit(home: Path, tree: Path, name: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """Write ``name`` in ``tree`` and ``git commit`` it as an agent's terminal would."""
    path = tree / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{name}\n", encoding="utf-8")
    env = cli_env(home)
    subprocess.run(["git", "add", name], cwd=tree, check=True, env=env)
    return subprocess.run(
        ["git", "commit", "-q", "-m", f"add {name}", *flags],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _git_commit(home: Path, tree: Path, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=tree,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _init(home: Path, repo: Path) -> tuple[Path, Path]:
    made = run_cli(home, "workspaces", "init", str(repo), "--agents", "Agent-1", "Agent-2")
    assert made.code == 0, made.err
    trees = home / "workspaces" / "project"
    return trees / "Agent-1", trees / "Agent-2"


async def test_the_hook_refuses_a_commit_into_another_agents_reservation_until_released(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    user_hook = repo / ".git" / "hooks" / "pre-commit"  # the user's own: must keep running
    user_hook.write_text('#!/bin/sh\necho ran >> "$(git rev-parse --show-toplevel)/.ran"\n')
    user_hook.chmod(0o755)
    tree1, _ = _init(home, repo)
    assert reservation_hook.installed(tree1)
    assert not reservation_hook.installed(repo)  # the main checkout keeps its hooks
    task = await _held(service, "Agent-2", "rework the API")
    await service.reservations.reserve("Agent-2", ["src/api/**"])

    allowed = _commit(home, tree1, "docs/guide.md")
    assert allowed.returncode == 0, allowed.stderr
    assert (tree1 / ".ran").read_text() == "ran\n"  # handed over to the user's hook
    refused = _commit(home, tree1, "src/api/users.py")
    assert refused.returncode != 0
    said = refused.stderr.strip()
    assert (
        "commit refused" in said
        and f"Agent-2's exclusive reservation src/api/** (T-{task})" in said
    )
    assert said.count("\n") == 0
    assert sh(tree1, "log", "-1", "--format=%s").strip() == "add docs/guide.md"

    assert await service.reservations.release("Agent-2") == 1
    again = _git_commit(home, tree1, "add the users API")
    assert again.returncode == 0, again.stderr
    assert sh(tree1, "log", "-1", "--format=%s").strip() == "add the users API"


async def test_task_merge_warns_or_refuses_over_another_agents_reservation(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    tree1, _ = _init(home, repo)
    mine = await _held(service, "Agent-1", "touch the API")
    theirs = await _held(service, "Agent-2", "own the API")
    await service.reservations.reserve("Agent-2", ["src/api/**"])
    sneaked = _commit(home, tree1, "src/api/users.py", "--no-verify")  # the escape hatch
    assert sneaked.returncode == 0, sneaked.stderr
    await service.tasks.complete(mine, "Agent-1")
    before = sh(repo, "rev-parse", "main").strip()

    service.store.settings = dataclasses.replace(service.settings, reservations="strict")
    with pytest.raises(ReservationConflict, match=r"SWARM_RESERVATIONS=strict") as err:
        await service.workspaces.merge(mine, "cli")
    assert f"Agent-2's exclusive reservation src/api/** (T-{theirs})" in str(err.value)
    assert sh(repo, "rev-parse", "main").strip() == before  # nothing merged

    service.store.settings = dataclasses.replace(service.settings, reservations="warn")
    said = await service.workspaces.merge(mine, "cli")
    assert said.startswith("warning: ") and "merged into main" in said
    assert sh(repo, "rev-parse", "main").strip() != before
    crossed = [
        e for e in await service.history.events(task=mine) if e.kind == "reservation.crossed"
    ]
    assert [e.data["refused"] for e in crossed if e.data] == [True, False]
    assert crossed[0].data and crossed[0].data["files"] == ["src/api/users.py"]


async def test_install_hook_reaches_worktrees_made_without_it(
    repo: Path, service: SwarmService
) -> None:
    from core.workspaces._manager import InitRequest, init

    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = service.settings.home / "workspaces" / "project" / "Agent-1"
    assert not reservation_hook.installed(tree)
    done = run_cli(service.settings.home, "reservations", "install-hook", "--agent", "Agent-1")
    assert done.code == 0 and f"Agent-1: {tree}: pre-commit hook in" in done.out, done.err
    assert reservation_hook.installed(tree)
    none = run_cli(service.settings.home, "reservations", "install-hook", "--agent", "Agent-2")
    assert (none.code, none.err) == (
        2,
        "swarm: error: no swarm worktree of Agent-2: swarm workspaces init\n",
    )


def test_a_sandboxed_agents_check_written_before_the_door_is_rewritten_once(
    repo: Path, service: SwarmService
) -> None:
    """``swarm run`` at its start (``stale_hooks``): the check of a sandboxed agent's
    worktree written before the door's gets it, the same command kept; an unsandboxed
    agent's is left as written, and a second start finds nothing to do."""
    from automation.launch.sandbox import stale_commit_checks
    from core.models import Sandbox
    from core.workspaces._manager import InitRequest, init
    from tests.workspaces.old_hooks import write_old_hook

    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1", "Agent-2")))
    command = [f"SWARM_HOME={home}", "/opt/py bin/python", "-m", "bot.cli.main"]
    trees = {a: home / "workspaces" / "project" / a for a in ("Agent-1", "Agent-2")}
    old = {a: write_old_hook(trees[a], command, a) for a in trees}
    before = old["Agent-2"].read_text()
    agents = [dataclasses.replace(service.agents["Agent-1"], sandbox=Sandbox()),
              service.agents["Agent-2"]]  # fmt: skip
    assert stale_commit_checks(home, agents) == [
        f"Agent-1: {old['Agent-1'].parent}/pre-commit: reservations now checked by its door"
    ]
    text = old["Agent-1"].read_text()
    assert "/run/swarm/swarm reservations check-commit --agent Agent-1" in text
    assert f"SWARM_HOME={home} '/opt/py bin/python' -m bot.cli.main reservations" in text
    assert old["Agent-2"].read_text() == before
    assert stale_commit_checks(home, agents) == []


@pytest.mark.timeout(30)
def test_an_index_named_through_the_door_must_be_its_worktrees_own_plain_file(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check-commit --index PATH`` comes through a sandbox's door from the agent, and git
    ran outside with ``GIT_INDEX_FILE=PATH``: the first bytes of the person's key or of
    ``/etc/shadow`` came back in git's error, and a FIFO held the door's slot (found by an
    attack audit). Only the worktree's own index files are read now, as plain files, and
    git reads swarm's copy."""
    tree = tmp_path / "tree"
    sh(repo, "worktree", "add", "-q", "-b", "feature", str(tree))
    (tree / "new.txt").write_text("x\n")
    sh(tree, "add", "new.txt")
    own = repo / ".git" / "worktrees" / "tree"
    assert reservation_hook.staged_files(tree, str(own / "index")) == ["new.txt"]
    lock = own / "index.lock"  # what ``git commit -a`` stages into
    shutil.copy(own / "index", lock)
    assert reservation_hook.staged_files(tree, str(lock)) == ["new.txt"]
    secret = tmp_path / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    for bad in (secret, Path("/etc/shadow"), repo / ".git" / "index", own / "config"):
        with pytest.raises(InvalidInput, match="--index must be an index file of"):
            reservation_hook.staged_files(tree, str(bad))
    for planted in ("fifo", "link"):
        lock.unlink()
        os.mkfifo(lock) if planted == "fifo" else lock.symlink_to(secret)
        with pytest.raises(InvalidInput, match=r"not a regular file|symbolic link") as refused:
            reservation_hook.staged_files(tree, str(lock))
        assert "BEGIN" not in str(refused.value)
    monkeypatch.setattr(reservation_hook, "INDEX_MAX", 16)  # copied in pieces, then refused
    with pytest.raises(InvalidInput, match="is over 0 MB"):
        reservation_hook.staged_files(tree, str(own / "index"))
