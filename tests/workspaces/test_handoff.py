"""A task that moves to another agent carries a handoff: read in the delivered inbox file."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.workspaces._handoff import handoff_text
from core.workspaces._manager import InitRequest, init
from tests.workspaces.conftest import commit_file, sh, two_worktrees

pytestmark = pytest.mark.both_databases


def _delivered(home: Path, agent: str) -> list[str]:
    folder = home / "inbox" / agent
    return [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


async def test_reassigned_task_hands_notes_and_commits_over(
    repo: Path, service: SwarmService
) -> None:
    home = service.settings.home
    tree1, tree2 = two_worktrees(service, repo)
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox"))
    task = await service.tasks.create(TaskSpec("write the parser", agent="Agent-1"), "cli")
    await scheduler.run_burst()
    await service.tasks.start(task.id, "Agent-1", "parser done, tests next")
    sha = commit_file(tree1, "parser.py", "def parse(): ...\n", "parser: first version")
    await service.tasks.note(task.id, "Agent-1", "tests half written")
    assert not (home / "inbox" / "Agent-2").exists()
    await service.tasks.assign(task.id, "Agent-2", "cli")
    await scheduler.run_burst()
    (prompt,) = _delivered(home, "Agent-2")
    assert "HANDOFF: T-1 comes to you from Agent-1 (reassigned to Agent-2 by cli)" in prompt
    assert "Notes from Agent-1:\n- parser done, tests next\n- tests half written" in prompt
    assert "Last report from Agent-1: T-1 note by Agent-1: tests half written" in prompt
    assert f"Agent-1's commits on branch swarm/Agent-1 ({tree1}) so far:" in prompt
    assert f"- {sha[:10]} parser: first version" in prompt
    assert "What remains:" in prompt
    assert f"Work in {tree2} on branch swarm/Agent-2" in prompt
    # the dashboard's task page shows the same text (handoff_text, one read)
    shown = await service.store.read(handoff_text, task.id, "Agent-2")
    assert shown is not None and shown.startswith("HANDOFF: T-1 comes to you from Agent-1")
    assert "Notes from Agent-1:\n- parser done, tests next\n- tests half written" in shown
    assert await service.store.read(handoff_text, task.id, "Agent-1") is None  # nobody before it
    assert await service.store.read(handoff_text, task.id, None) is None  # nobody holds the task
    first, withdrawal = _delivered(home, "Agent-1")  # its prompt, then the task taken back
    assert "HANDOFF" not in first and "WITHDRAWN from cli to Agent-1 | T-1 " in withdrawal
    command = next(line for line in prompt.splitlines() if "git cherry-pick" in line)
    pick = command.split(": ", 1)[1].split(" (")[0]
    assert pick.startswith("git cherry-pick ")
    sh(tree2, *pick.split()[1:])
    assert (tree2 / "parser.py").read_text() == "def parse(): ...\n"
    assert sh(tree2, "log", "-1", "--format=%s").strip() == "parser: first version"


async def test_lease_expiry_hands_over_without_commits(
    repo: Path, service: SwarmService, clock: ManualClock
) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox", clock))
    task = await service.tasks.create(TaskSpec("silent work", agent="Agent-1"), "cli")
    await scheduler.run_burst()
    await service.store.write(
        "cli",
        lambda conn, ctx: conn.execute(
            "UPDATE tasks SET pinned_agent = NULL WHERE id = $1", (task.id,)
        ),
    )
    clock.advance(61)
    await service.queue.expire_leases()
    clock.advance(10)
    await scheduler.run_burst()
    holder = (await service.tasks.get(task.id)).agent
    assert holder not in (None, "Agent-1")
    (prompt,) = _delivered(home, holder or "")
    assert "HANDOFF: T-1 comes to you from Agent-1 (no report from Agent-1 within 60 s)" in prompt
    assert (
        f"Agent-1 made no commits on branch swarm/Agent-1 ({home}/workspaces/project/"
        "Agent-1) for this task." in prompt
    )
    assert "Notes from" not in prompt and "Work in" not in prompt
