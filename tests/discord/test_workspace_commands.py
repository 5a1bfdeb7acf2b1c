"""/task diff (a file), /task merge (admins, confirmation button) and /agent reset, on a
real git repository and the real bot against the local Discord."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.workspaces._manager import InitRequest, init
from tests.discord.conftest import World, slash
from tests.helpers import RecordingDeliverer
from tests.workspaces.conftest import GIT_ENV, commit_file, sh


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed git identity, no user or system git config."""
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def _repo(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    sh(path, "init", "-q", "-b", "main")
    commit_file(path, "README.md", "# project\n", "first")
    return path


async def test_diff_merge_and_reset(world: World, tmp_path: Path) -> None:
    service = world.service
    repo = _repo(tmp_path)
    init(service.settings.home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    tree = service.settings.home / "workspaces" / "project" / "Agent-1"
    task = await service.tasks.create(TaskSpec("feature", agent="Agent-1"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    first = commit_file(tree, "feature.py", "FEATURE = 1\n", "feature")
    head = commit_file(tree, "tests.py", "assert True\n", "tests for the feature")
    await service.tasks.complete(task.id, "Agent-1")
    shown = await slash(world, world.user, "task show", {"id": "T-1"})
    fields = {f["name"]: f["value"] for f in shown.data["embeds"][0]["fields"]}
    assert fields["commits by Agent-1 on swarm/Agent-1"] == (
        f"`{first[:10]}` feature\n`{head[:10]}` tests for the feature"
    )
    stat = fields["diff stat"]
    assert stat.startswith("```\n") and " feature.py | 1 +" in stat and " tests.py   | 1 +" in stat
    assert stat.endswith("2 files changed, 2 insertions(+)\n```")
    handle = await world.server.invoke_slash(world.user, "task diff", {"id": "T-1"})
    await handle.wait_callback()
    message = await handle.wait_original()
    (attachment,) = message.attachments
    assert attachment.filename == "T-1.diff" and b"+FEATURE = 1" in attachment.data
    refused = await slash(world, world.user, "task merge", {"id": "T-1"})
    assert "admins only" in refused.data["content"]
    handle = await world.server.invoke_slash(world.admin, "task merge", {"id": "T-1"})
    await handle.wait_callback()
    ask = await handle.wait_original()
    assert ask.content == "Merge T-1 (swarm/Agent-1) into main?"
    assert sh(repo, "rev-parse", "main").strip() != head
    not_admin = await (
        await world.server.click_button(world.user, ask, "swarm:merge:1")
    ).wait_callback()
    assert "admins" in not_admin.data["content"] or "not allowed" in not_admin.data["content"]
    done = await (
        await world.server.click_button(world.admin, ask, "swarm:merge:1")
    ).wait_callback()
    assert done.type == 7 and "merged into main (fast-forward" in done.data["content"]
    assert sh(repo, "rev-parse", "main").strip() == head
    reset = await slash(world, world.admin, "agent reset", {"agent": "agent-3"})
    assert reset.data["content"] == "🧹 reset of Agent-3 queued, then its onboarding"
    queued = await service.messages.deliveries()
    assert [d.agent for d in queued[:2]] == ["Agent-3", "Agent-3"]


async def test_merge_of_a_task_without_a_workspace(world: World) -> None:
    await world.service.tasks.create(TaskSpec("elsewhere", agent="Agent-4"), "cli")
    reply = await slash(world, world.admin, "task merge", {"id": "T-1"})
    assert "T-1 was not worked on in a workspace: nothing to merge" in reply.data["content"]


def test_task_embed_keeps_the_last_commits_and_the_stat_totals_within_limits() -> None:
    from bot.discordbot.embeds import task_embed
    from core.models import Event, Priority, Task, TaskStatus

    commits = [{"sha": f"{n:02d}" + "a" * 38, "subject": f"step {n}"} for n in range(15)]
    stat = (
        "\n".join(f" file{n}.py | 3 ++-" for n in range(200))
        + "\n 200 files changed, 400 insertions(+), 200 deletions(-)"
    )
    event = Event(
        1,
        0.0,
        "task.commits",
        "",
        task_id=1,
        agent="Agent-2",
        data={"branch": "swarm/Agent-2", "commits": commits, "stat": stat},
    )
    embed = task_embed(Task(1, "t", "", Priority.normal, TaskStatus.done), (), [event])
    fields = {f.name: f.value or "" for f in embed.fields}
    listed = fields["commits by Agent-2 on swarm/Agent-2"].splitlines()
    assert listed[0] == "… 5 earlier" and listed[-1] == "`14aaaaaaaa` step 14"
    assert len(listed) == 11
    assert len(fields["diff stat"]) <= 1024
    assert fields["diff stat"].endswith(
        "200 files changed, 400 insertions(+), 200 deletions(-)\n```"
    )
