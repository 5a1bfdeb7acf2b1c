"""Cost known on the documented path (issue 64, item 4), with the real pinned CLIs against
localmodel: ``swarm workspaces init`` then ``swarm desktop up --protocol``, as the docs say,
and no key added by hand (the agents file names no ``workspace``: init writes none). Codex
(codex-acp), Gemini CLI and opencode say no turn usage over their protocol: their session
files are read, in the worktree init made. Mistral Vibe says its session's running total at
each turn's end: the turn's tokens are what it added; its model (its alias) has no price in
the table, so its cost is unknown. Each CLI is started once for the module.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol.watch import ProtocolWatch
from automation.routes import build_deliverer
from core.agents._judge import Freshness
from core.coordinator.prompt_keys import PromptKeys
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import values
from core.watch.usage_files import UsageFiles
from tests import cli_zygote
from tests.agents.launch import SETUPS, _git
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import IN, OUT, QUIETING, SCRIPT, Swarm
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("protocol-live")
AGENT = "A"
TURN_END = ("mistral-vibe",)  # its usage from its protocol's turn ends, not its files


class Rig:
    """One CLI under its host, in the worktree ``swarm workspaces init`` made for it."""

    def __init__(self, cli: str, root: Path) -> None:
        self.cli, self.root = cli, root
        self.home, self.config = root / "swarm", root / "agents.toml"
        self.repo = root / "app"
        self.worktree = self.home / "workspaces" / "app" / AGENT
        self.env: dict[str, str] = {}

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"SWARM_HOME": str(self.home), "SWARM_CONFIG": str(self.config)})

    def swarm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The ``swarm`` command as the user runs it."""
        return cli_zygote.run(list(args), self.env, self.repo, 240)


@pytest.fixture(scope="module", params=["codex", "gemini", "opencode", "mistral-vibe"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """The documented path: a repository, ``swarm workspaces init``, ``swarm desktop up
    --protocol``; the agents file has no ``workspace``."""
    cli = str(request.param)
    binary = require_binary(cli)
    made = Rig(cli, tmp_path_factory.mktemp(f"costs-{cli}").resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    model = LocalModel(made.root, SCRIPT)
    setup = SETUPS[cli](binary, made.root / "home", made.worktree, model.url)
    made.config.write_text(
        f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\ncli = "{cli}"\naccount = "test-account"\n'
        f"\n[desktop]\ncommand = {json.dumps(' '.join(setup.argv))}\n",
        encoding="utf-8",
    )
    made.env = {
        **{k: v for k, v in setup.env.items() if k not in QUIETING},
        "SWARM_HOME": str(made.home), "SWARM_CONFIG": str(made.config), "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    try:
        init = made.swarm("workspaces", "init", str(made.repo))
        assert init.returncode == 0, init.stdout + init.stderr
        up = made.swarm("desktop", "up", "--protocol", "--json")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "workspace" not in made.config.read_text(encoding="utf-8")
        yield made
    finally:
        made.swarm("desktop", "down", "--headless")
        model.stop()


@pytest.fixture
async def swarm(rig: Rig) -> AsyncIterator[Swarm]:
    """swarm on the rig's home, as ``swarm run`` builds it."""
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    usage = UsageFiles(service.store)
    await usage.tick()
    made = Swarm(service, deliverer, watch, PromptKeys(service, deliverer, None), usage)
    try:
        yield made
    finally:
        await made.watch.stop()
        deliverer.close()
        await made.service.close()


def _ledger(conn: Any, task: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT agent, cli, model, source, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_tokens, cost_usd, cost_from FROM turn_usage WHERE task_id = $1",
        (task,),
    ).fetchall()
    return [dict(zip(r.keys(), values(r), strict=True)) for r in rows]


@pytest.mark.timeout(300)
async def test_a_turns_usage_is_read_after_workspaces_init_and_desktop_up(
    rig: Rig, swarm: Swarm
) -> None:
    """The turn's usage reaches the ledger as localmodel reported it, read from the CLI's
    files in the worktree init made; explain names the folder read."""
    said = (await swarm.service.explain_agent(AGENT))["usage"]
    assert said.startswith("from "), said
    task = await swarm.service.tasks.create(
        TaskSpec("count my tokens", "count my tokens", agent=AGENT), "me"
    )
    burst = asyncio.create_task(Scheduler(swarm.service, swarm.deliverer).run_burst())
    while not burst.done():
        await swarm.watch.fire()
        await asyncio.sleep(0.1)
    assert (await burst).delivered >= 1

    async def found() -> list[dict[str, Any]]:
        return await swarm.service.store.read(_ledger, task.id)

    (row,) = await swarm.until(found, within=150)
    source = "protocol" if rig.cli in TURN_END else "transcript"
    assert (row["agent"], row["cli"], row["source"]) == (AGENT, rig.cli, source)
    assert row["output_tokens"] == OUT, row
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] == IN, row
    if rig.cli == "mistral-vibe":  # its model as its alias: no price listed, none invented
        assert (row["model"], row["cost_usd"], row["cost_from"]) == ("local", None, None), row
        spent = (await swarm.service.costs.of_task(task.id))["cost"]
        assert (spent.unknown, spent.no_usage, spent.cost_usd) == (1, 0, 0.0), spent
    print(f"{rig.cli}: model {row['model']!r}, cost {row['cost_usd']} ({row['cost_from']})")
