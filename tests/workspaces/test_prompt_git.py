"""What a task's prompt costs in git (each call a process on the delivery's path): for an
agent working in a folder of its own (``workspace =``) or in the worktree swarm made for it,
already on the task's branch, one ``git status`` at the task's first prompt to that agent
(the files the worktree holds outside its commits, so that the task's diff is its own:
``test_own_diff``) and none at a prompt again: its branch and head are read from the
repository's files (``core.workspaces._head_files``); the head recorded is the branch's (a
detached HEAD's commit, with no branch)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from core.models import Agent, TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._manager import InitRequest, init
from core.workspaces._ops import find
from tests.helpers import write_agents
from tests.workspaces.conftest import sh


def _counting(monkeypatch: pytest.MonkeyPatch, where: Path) -> list[list[str]]:
    """The git calls run in ``where`` from now on (what core.workspaces._git calls)."""
    calls: list[list[str]] = []
    run = subprocess.run

    def counted(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        if argv[0] == "git" and Path(kwargs.get("cwd") or ".") == where:
            calls.append(argv[1:])
        return run(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counted)
    return calls


def _start_files_only(calls: list[list[str]]) -> bool:
    """Whether ``calls`` is the turn's one read of its start files (``git status``)."""
    return [call[0] for call in calls] == ["status"]


async def _again_runs_none(
    service: SwarmService, monkeypatch: pytest.MonkeyPatch, where: Path, task: int, agent: str
) -> None:
    """The task's prompt to the same agent again (a follow-up) runs no git at all."""
    calls = _counting(monkeypatch, where)
    assert await service.workspaces.before_prompt(task, agent) is not None
    monkeypatch.undo()
    assert calls == []


@asynccontextmanager
async def _working_in(tmp_path: Path, folder: Path, agents: int = 1) -> AsyncIterator[SwarmService]:
    """A service whose agents ``A-1``.. each work in ``folder`` (``workspace =``)."""
    rows: list[dict[str, object]] = [
        {"id": f"A-{n}", "role": "w", "delivery": "inbox", "workspace": str(folder)}
        for n in range(1, agents + 1)
    ]
    config = write_agents(tmp_path / "agents.toml", rows)
    settings = Settings.from_env({"SWARM_HOME": str(tmp_path / "home"),
                                  "SWARM_CONFIG": str(config)})  # fmt: skip
    service = await SwarmService.open(settings)
    try:
        yield service
    finally:
        await service.close()


@pytest.mark.parametrize("detached", [False, True])
async def test_a_prompt_in_an_agents_own_folder_runs_no_git_process(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch, detached: bool
) -> None:
    async with _working_in(tmp_path, repo) as service:
        task = await service.tasks.create(TaskSpec("a change", agent="A-1"), "cli")
        expected = sh(repo, "rev-parse", "HEAD~1" if detached else "main").strip()
        if detached:
            sh(repo, "switch", "--quiet", "--detach", "HEAD~1")
        calls = _counting(monkeypatch, repo)
        place = await service.workspaces.before_prompt(task.id, "A-1")
        monkeypatch.undo()
        assert place is not None and place.path == repo
        assert place.branch == (None if detached else "main")
        assert _start_files_only(calls), calls  # before: rev-parse (and symbolic-ref)
        (turn,) = await service.workspaces.turns(task.id)
        assert turn.start_sha == expected
        await _again_runs_none(service, monkeypatch, repo, task.id, "A-1")


async def test_a_prompt_in_a_worktree_already_on_its_branch_runs_no_git_process(
    repo: Path, service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worktree swarm made for Agent-1, on its own branch: its second task's prompt
    reads where it is from the files and moves nothing."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = home / "workspaces" / "project" / "Agent-1"
    task = await service.tasks.create(TaskSpec("a change", agent="Agent-1"), "cli")
    calls = _counting(monkeypatch, tree)
    place = await service.workspaces.before_prompt(task.id, "Agent-1")
    monkeypatch.undo()
    assert place is not None and place.branch == "swarm/Agent-1"
    assert _start_files_only(calls), calls
    (turn,) = await service.workspaces.turns(task.id)
    assert turn.start_sha == sh(repo, "rev-parse", "main").strip()
    await _again_runs_none(service, monkeypatch, tree, task.id, "Agent-1")


async def test_a_repository_with_no_commit_has_its_branch_and_no_head(
    tmp_path: Path, service: SwarmService
) -> None:
    """``git init`` and nothing committed (a new project): the branch is read, no head."""
    empty = tmp_path / "empty"
    empty.mkdir()
    sh(empty, "init", "-q", "-b", "trunk")
    place = find(service.settings.home, {"A": Agent("A", "w", workspace=str(empty))}, "A")
    assert place is not None and (place.branch, place.head) == ("trunk", None)


async def test_a_prompt_in_a_new_project_with_no_commit_runs_no_git_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``git init`` and nothing committed: the files say the branch has no commit, so the
    prompt asks git only for its start files (before: its head, then whether it has any
    commit)."""
    new = tmp_path / "new-project"
    new.mkdir()
    sh(new, "init", "-q", "-b", "trunk")
    async with _working_in(tmp_path, new) as service:
        task = await service.tasks.create(TaskSpec("start it", agent="A-1"), "cli")
        calls = _counting(monkeypatch, new)
        place = await service.workspaces.before_prompt(task.id, "A-1")
        monkeypatch.undo()
        assert place is not None and (place.branch, place.head) == ("trunk", None)
        assert _start_files_only(calls), calls
        (turn,) = await service.workspaces.turns(task.id)
        assert (turn.branch, turn.start_sha) == ("trunk", None)
        await _again_runs_none(service, monkeypatch, new, task.id, "A-1")


async def test_prompts_built_together_record_their_turns_in_one_transaction_after_the_first(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node's first wave: each agent's prompt built at once. The first turns' records
    are written at once, the others (come while they were in flight) in one transaction
    after them: at most two transactions, not six in a row."""
    async with _working_in(tmp_path, repo, agents=6) as service:
        tasks = [
            await service.tasks.create(TaskSpec(f"change {n}", agent=f"A-{n}"), "cli")
            for n in range(1, 7)
        ]
        store = service.workspaces.service
        update = store.update
        writes: list[str] = []

        async def counted(fn: Any, *args: Any) -> Any:
            writes.append(fn.__name__)
            if len(writes) == 1:  # in flight until the other prompts wait for it
                grouped = service.workspaces._starts
                for _ in range(1000):
                    if len(args[0]) + len(grouped._waiting) == 6:
                        break
                    await asyncio.sleep(0.01)
            return await update(fn, *args)

        monkeypatch.setattr(store, "update", counted)
        await asyncio.gather(
            *(service.workspaces.before_prompt(t.id, f"A-{n}") for n, t in enumerate(tasks, 1))
        )
        monkeypatch.undo()
        assert writes in (["record_starts"], ["record_starts"] * 2)  # before: six record_start
        for task in tasks:
            (turn,) = await service.workspaces.turns(task.id)
            assert turn.start_sha == sh(repo, "rev-parse", "main").strip()
