"""Onboarding and resets through the inbox deliverer: role templates, the first task,
``agents onboard``, ``agents reset`` and ``reset_between_tasks``."""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from automation.inbox.files import InboxDeliverer
from core.agents_file import load_agents
from core.coordinator.scheduler import Scheduler
from core.delivery._onboarding import RESET_TEXT, onboard, reset
from core.errors import ConfigError
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.workspaces._manager import InitRequest, init
from tests.helpers import run_cli
from tests.workspaces.conftest import counting_threads

pytestmark = pytest.mark.both_databases

ROLES = (
    "integration",
    "architecture",
    "infrastructure",
    "qa",
    "data",
    "coordination",
    "web",
    "operations",
)


def _delivered(home: Path, agent: str) -> list[str]:
    folder = home / "inbox" / agent
    if not folder.exists():
        return []
    return [p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")]


async def test_first_task_starts_with_the_role_template(repo: Path, service: SwarmService) -> None:
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox"))
    for title in ("first", "second"):
        task = await service.tasks.create(TaskSpec(title, agent="Agent-1"), "cli")
        await scheduler.run_burst()
        await service.tasks.complete(task.id, "Agent-1")
    first, second = _delivered(home, "Agent-1")
    intro, _, prompt = first.partition("\n\n---\n\n")
    assert intro.startswith("# Agent-1: Integration\n")
    assert "Your role is\n**integration**. The captain is Agent-4" in intro
    tree = home / "workspaces" / "project" / "Agent-1"
    assert f"Your workspace is {tree} on branch swarm/Agent-1." in intro
    assert "${" not in intro
    assert prompt.startswith("[swarm] from scheduler to Agent-1 | task T-1")
    assert second.startswith("[swarm] from scheduler to Agent-1 | task T-2")
    # the report commands once: the role text's under it, the prompt's own from the next task
    done = '--note "what you did"'
    assert first.count(done) == 1 and "Report back" not in first
    assert second.count(done) == 1 and "Report back from your terminal: " in second
    kinds = [e.kind for e in await service.history.last(100)]
    assert kinds.count("agent.onboarded") == 1


async def test_a_first_prompts_onboarding_fills_in_the_workspace_read_for_the_prompt(
    repo: Path, service: SwarmService
) -> None:
    """The workspace read for the first prompt fills the template: it is not read a second
    time (the first wave onboards every agent at once, each read a worker thread's)."""
    home = service.settings.home
    init(home, service.agents, InitRequest(repo, agents=("Agent-1",)))
    scheduler = Scheduler(service, InboxDeliverer(home / "inbox"))
    await service.tasks.create(TaskSpec("first", agent="Agent-1"), "cli")
    threads = counting_threads()
    await scheduler.run_burst()
    (first,) = _delivered(home, "Agent-1")
    tree = home / "workspaces" / "project" / "Agent-1"
    assert f"Your workspace is {tree} on branch swarm/Agent-1." in first
    reads = [f for f in threads.given if "function find " in f or "function text_for " in f]
    assert len(reads) == 1, threads.given  # before: find for the prompt, text_for again


async def test_onboard_every_agent_with_an_override(service: SwarmService) -> None:
    home = service.settings.home
    (home / "roles").mkdir()
    (home / "roles" / "web.md").write_text(
        "Hello ${agent} (${role}); ask ${captain}. Folder: ${workspace}, ${branch}.\n"
    )
    for name in service.agents:
        await onboard(service.store, name, "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    texts = {a: _delivered(home, a) for a in service.agents}
    assert all(len(t) == 1 for t in texts.values())
    assert texts["Agent-7"][0].endswith(
        "Hello Agent-7 (web); ask Agent-4. Folder: your current folder (no swarm workspace), "
        "your current branch."
    )
    for agent in service.agents.values():
        if agent.role != "web":
            assert f"Your role is\n**{agent.role}**" in texts[agent.id][0]
    task = await service.tasks.create(TaskSpec("after onboarding", agent="Agent-2"), "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    assert _delivered(home, "Agent-2")[1].startswith(
        f"[swarm] from scheduler to Agent-2 | task {task.ref}"
    )


async def test_no_workspace_reads_as_a_sentence(service: SwarmService) -> None:
    """Not "on branch your current branch" (issue 28, item 13), in an older override too."""
    home = service.settings.home
    (home / "roles").mkdir()
    (home / "roles" / "web.md").write_text("Work in ${workspace} on branch ${branch}.\n")
    for name in ("Agent-1", "Agent-7"):
        await onboard(service.store, name, "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    bundled, override = _delivered(home, "Agent-1")[0], _delivered(home, "Agent-7")[0]
    assert "Your workspace is your current folder, on your current branch (no swarm " in bundled
    assert override.endswith(
        "Work in your current folder, on your current branch (no swarm workspace)."
    )
    assert "branch your current branch" not in bundled + override


def test_bundled_templates_cover_the_eight_roles() -> None:
    from importlib.resources import files

    folder = files("core") / "bundled" / "roles"
    for role in ROLES:
        text = (folder / f"{role}.md").read_text(encoding="utf-8")
        assert all(f"${{{key}}}" in text for key in ("agent", "role", "place", "captain"))
        assert "`swarm " not in text  # report commands carry the home: ${swarm}


async def test_report_commands_in_onboarding_carry_the_home(service: SwarmService) -> None:
    """A custom home reaches the agent's terminal in the role text too, as in the prompts."""
    home = service.settings.home
    assert service.settings.custom_home == home
    await onboard(service.store, "Agent-1", "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    text = _delivered(home, "Agent-1")[0]
    assert f"`SWARM_HOME={shlex.quote(str(home))} swarm task start T-N`" in text
    assert (
        f'`SWARM_HOME={shlex.quote(str(home))} swarm send Agent-4 "question"` to reach Agent-4'
        in text
    )


async def test_without_a_captain_the_template_says_how_to_reach_a_person(
    home: Path, tmp_path: Path
) -> None:
    """Not "`swarm send the person running swarm "question"`" (issue 41, item 8): an agent
    asks a person on its task, in the bundled template and in an older override."""
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "Agent-1"\nrole = "web"\ndelivery = "inbox"\n'
        '[[agent]]\nid = "Agent-2"\nrole = "qa"\ndelivery = "inbox"\n'
    )
    (home / "roles").mkdir(parents=True)
    (home / "roles" / "qa.md").write_text(  # an override copied from an older template
        '- `${swarm} send ${captain} "question"` to reach the captain\n'
    )
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings, ManualClock())
    try:
        for name in ("Agent-1", "Agent-2"):
            await onboard(service.store, name, "cli")
        await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    finally:
        await service.close()
    swarm = f"SWARM_HOME={shlex.quote(str(home))} swarm"
    line = f'- `{swarm} ask "question"` to reach the person running swarm'
    bundled, override = _delivered(home, "Agent-1")[0], _delivered(home, "Agent-2")[0]
    assert f"{line}\n" in bundled and override.endswith(line)
    assert "send the person" not in bundled + override


async def test_reset_then_onboarding_in_order(service: SwarmService) -> None:
    home = service.settings.home
    await reset(service.store, "agent-3", "cli")
    await Scheduler(service, InboxDeliverer(home / "inbox")).run_burst()
    cleared, intro = _delivered(home, "Agent-3")
    assert cleared.endswith(RESET_TEXT)
    assert "# Agent-3: Infrastructure" in intro


@pytest.fixture
async def resetting(home: Path, tmp_path: Path) -> AsyncIterator[SwarmService]:
    """A service whose Agent-1 has reset_between_tasks = true."""
    config = tmp_path / "agents.toml"
    config.write_text(
        '[[agent]]\nid = "Agent-1"\nrole = "web"\nreset_between_tasks = true\n'
        'app = "terminal"\ndelivery = "inbox"\n'
        '[[agent]]\nid = "Agent-2"\nrole = "qa"\ncaptain = true\n'
    )
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings, ManualClock())
    yield service
    await service.close()


async def test_reset_between_tasks(resetting: SwarmService) -> None:
    home = resetting.settings.home
    scheduler = Scheduler(resetting, InboxDeliverer(home / "inbox"))
    for title in ("one", "two"):
        task = await resetting.tasks.create(TaskSpec(title, agent="Agent-1"), "cli")
        await scheduler.run_burst()
        await resetting.tasks.complete(task.id, "Agent-1")
    reset1, prompt1, reset2, prompt2 = _delivered(home, "Agent-1")
    assert reset1 == reset2 == RESET_TEXT
    for prompt, ref in ((prompt1, "T-1"), (prompt2, "T-2")):
        intro, _, rest = prompt.partition("\n\n---\n\n")
        assert intro.startswith("# Agent-1: Web") and "The captain is Agent-2" in intro
        assert rest.startswith(f"[swarm] from scheduler to Agent-1 | task {ref}")
    assert resetting.agents["Agent-1"].reset == ("text:/clear", "enter")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("reset = []", "reset must be a non-empty list"),
        ('reset = ["text:"]', "has no text"),
        ('reset = ["ctrl+nope"]', "unknown key"),
        ("reset_between_tasks = 1", "reset_between_tasks must be true or false"),
        ('captain = true\n[[agent]]\nid = "B"\nrole = "r"\ncaptain = true', "only one captain"),
    ],
)
def test_bad_reset_and_captain_settings(tmp_path: Path, line: str, error: str) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(f'[[agent]]\nid = "A"\nrole = "r"\n{line}\n')
    with pytest.raises(ConfigError, match=error):
        load_agents(config)


def test_cli_onboard_and_reset(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "agents", "onboard")
    assert (result.code, result.err) == (2, "swarm: error: name one agent or give --all\n")
    result = run_cli(home, "agents", "reset", "Agent-3")
    assert result.code == 0, result.err
    assert result.out == ("reset of Agent-3 queued (message 1: ctrl+l), then its onboarding\n")
    result = run_cli(home, "agents", "onboard", "--all")
    assert result.out.count("onboarding of") == 8
