"""Issue 79, item 8: Claude Code in tmux started by a wrapper script that sets its HOME (the
agents file's ``cli_dir = ""``, as ``swarm desktop up`` writes it for a wrapper, and swarm's
own environment names no Claude Code folder): swarm's usage watch finds the CLI's process
under the agent's pane, reads its HOME from ``/proc`` and books each turn from the transcripts
there, as for a direct command: the tokens are localmodel's count, the dollars the price
table's. Planted out (the folder its HOME names belongs to another user), its usage is
unknown: nothing booked, its task's cost ``unknown``, its daily budget holding it with one
item that says why."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.cli.tasks import cost_lines
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.usage_files import UsageFiles
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, check_ledger_is_localmodels, usage_of_turns
from tests.agents.test_claude_code_live import SCRIPT
from tests.helpers import write_agents

pytestmark = pytest.mark.xdist_group("claude-code-live")
NOBODY = 65534
# the person's script: its own HOME, then Claude Code as its child (not exec'd)
WRAPPER = '#!/bin/sh\nHOME={home}\nexport HOME\n"$@"\n'


@pytest.fixture(scope="module")
def claude(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Claude Code in tmux under ``run-claude.sh``, which sets the HOME the suite's set-up
    wrote (the pane's own environment names another)."""
    root = tmp_path_factory.mktemp("claude-wrapped").resolve()
    (root / "bin").mkdir()
    (root / "decoy").mkdir()
    wrapper = root / "bin" / "run-claude.sh"
    wrapper.write_text(WRAPPER.format(home=root / "home"))
    wrapper.chmod(0o755)
    live = launch("claude-code", root, SCRIPT, wrap=[str(wrapper)],
                  env={"HOME": str(root / "decoy")})  # fmt: skip
    try:
        yield live
    finally:
        stop(live)


def _count(claude: LiveCLI) -> None:
    claude.send("count my tokens")
    claude.wait("tokens counted", timeout=60)
    claude.wait("? for shortcuts")


def _make(claude: LiveCLI) -> None:
    claude.send("make a file")
    if claude.wait_any(("Do you want to proceed?", "file made"), timeout=60) != "file made":
        time.sleep(1)  # a key pressed as the dialog appears can be lost
        claude.keys("1")
        claude.wait("file made", timeout=30)
    claude.wait("? for shortcuts")


@pytest.mark.timeout(300)
async def test_a_wrapped_claudes_turns_are_booked_as_localmodel_counted_them(
    claude: LiveCLI, tmp_path: Path
) -> None:
    ready = functools.partial(claude.wait, "? for shortcuts")
    turns: list[Callable[[], object]] = [
        functools.partial(_count, claude),
        functools.partial(_make, claude),
    ]
    counted = await usage_of_turns(
        claude, "claude-code", tmp_path, None, ready, turns, extra={"cli_dir": ""}
    )
    check_ledger_is_localmodels(counted, lambda r: "Write the title" in str(r["prompt"]))
    assert {(r["source"], r["model"], r["cost_from"]) for r in counted.rows} == {
        ("transcript", "claude-opus-5-5", "price"),
    }, counted.rows  # fmt: skip
    assert counted.spent.cost_usd > 0 and counted.spent.unknown == 0
    settings = Settings.from_env(
        {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(tmp_path / "agents.toml")}
    )
    service = await SwarmService.open(settings)
    try:
        said = (await service.explain_agent("A"))["usage"]
    finally:
        await service.close()
    folder = claude.root / "home" / ".claude"
    assert said.startswith(f"from Claude Code's session files in {folder} (followed"), said


@pytest.mark.timeout(300)
async def test_planted_out_its_usage_is_unknown_and_its_budget_holds_it(
    claude: LiveCLI, tmp_path: Path
) -> None:
    if os.getuid() != 0:
        pytest.skip("a folder of another user is made as root")
    folder = claude.root / "home" / ".claude"
    agent: dict[str, object] = {
        "id": "A", "role": "dev", "tmux": claude.target, "cli": "claude-code", "cli_dir": "",
        "tmux_socket": str(claude.tmux.socket), "workspace": str(claude.root / "work"),
        "daily_budget": 0.00001,
    }  # fmt: skip
    config = write_agents(tmp_path / "agents.toml", [agent])
    (tmp_path / "home").mkdir()
    settings = Settings.from_env(
        {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    )
    owner = folder.stat()
    os.chown(folder, NOBODY, NOBODY)  # Claude Code, as root, goes on writing there
    service = await SwarmService.open(settings)
    try:
        task = await service.tasks.create(TaskSpec("count", agent="A"), "test")
        await service.queue.assign_batch()
        watch = UsageFiles(service.store)
        claude.wait("? for shortcuts")
        assert await watch.tick() == 0
        _count(claude)
        for _ in range(3):
            assert await watch.tick() == 0  # nothing booked: its folder is not read
        said = (await service.explain_agent("A"))["usage"]
        assert "is not a folder of the user swarm runs as" in said, said
        lines = cost_lines(await service.costs.of_task(task.id))
        assert lines.startswith("Cost:     unknown (0 turn(s) recorded; A's unknown"), lines
        later = await service.tasks.create(TaskSpec("later", agent="A"), "test")
        await service.queue.assign_batch()
        assert (await service.tasks.get(later.id)).agent is None
        (item,) = [n for n in await service.inbox.needs() if n.kind == "budget"]
        assert "A's today's budget cannot be kept: its turns' usage cannot be read" in item.text
    finally:
        await service.close()
        os.chown(folder, owner.st_uid, owner.st_gid)
