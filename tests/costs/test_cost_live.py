"""Issue 51, item 6: a real CLI's turns over the protocol route (started by ``swarm desktop
up --protocol`` as a user starts it, under swarm's host, against localmodel) reach the cost
ledger with the tokens localmodel reported: the script fixes each answer's usage, so what
the ledger holds is checked against the model server's own figures.

Claude Code (stream-json): its turn's ``usage`` and its cost (``total_cost_usd``); opencode
(ACP): its turn's usage, and no cost (its model is not in the price table: unknown, counted
so). Only the turns' main answers are scripted with their usage: a CLI's side requests (a
title, a summary) are answered by the default step, whose usage localmodel estimates.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.factory import RoutingDeliverer, build_deliverer
from core.agents.judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.conn import values
from core.watch.protocol_signal import ProtocolWatch
from tests.agents.launch import SETUPS, _git
from tests.agents.live import LocalModel, require_binary
from tests.helpers import ROOT

pytestmark = pytest.mark.xdist_group("protocol-live")
AGENT = "A"
IN, OUT = 4321, 87  # the usage localmodel reports for the scripted answer
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "count my tokens"
steps = [{{ text = "counted", input_tokens = {IN}, output_tokens = {OUT} }}]
"""


@dataclass
class Rig:
    """One CLI under its host: swarm's home, its settings, its model, its environment."""

    cli: str
    home: Path
    config: Path
    work: Path
    model: LocalModel
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"SWARM_HOME": str(self.home), "SWARM_CONFIG": str(self.config)})

    def swarm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], env=self.env, cwd=self.work,
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module", params=["claude-code", "opencode"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    cli = str(request.param)
    binary = require_binary(cli)
    root = tmp_path_factory.mktemp(f"cost-{cli}").resolve()
    work, home = root / "work", root / "swarm"
    work.mkdir()
    home.mkdir()
    _git(work)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS[cli](binary, root / "home", work, model.url)
    config = root / "agents.toml"
    config.write_text(
        f'[[agent]]\nid = "{AGENT}"\nrole = "dev"\nworkspace = "{work}"\ncli = "{cli}"\n'
        f'account = "test-account"\n\n[desktop]\ncommand = {json.dumps(" ".join(setup.argv))}\n',
        encoding="utf-8",
    )
    env = setup.env | {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config),
                       "PYTHONPATH": str(ROOT)}  # fmt: skip
    made = Rig(cli, home, config, work, model, env)
    try:
        up = made.swarm("desktop", "up", "--protocol", "--json")
        assert up.returncode == 0, up.stdout + up.stderr
        yield made
    finally:
        made.swarm("desktop", "down", "--headless")
        model.stop()


@pytest.fixture
async def parts(rig: Rig) -> AsyncIterator[tuple[SwarmService, RoutingDeliverer, ProtocolWatch]]:
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    try:
        yield service, deliverer, watch
    finally:
        await watch.stop()
        deliverer.close()
        await service.close()


def ledger_rows(conn: Any) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT task_id, agent, account, cli, model, source, input_tokens, output_tokens, "
        "cache_read_tokens, cache_write_tokens, cost_usd, cost_from FROM turn_usage ORDER BY id"
    ).fetchall()
    return [dict(zip(r.keys(), values(r), strict=True)) for r in rows]


@pytest.mark.timeout(240)
async def test_a_turns_usage_in_the_ledger_is_what_localmodel_reported(
    rig: Rig, parts: tuple[SwarmService, RoutingDeliverer, ProtocolWatch]
) -> None:
    service, deliverer, watch = parts
    task = await service.tasks.create(TaskSpec("count my tokens", agent=AGENT), "me")
    assert (await Scheduler(service, deliverer).run_burst()).delivered == 1
    asked = rig.model.wait_request("count my tokens")
    deadline = time.monotonic() + 90
    found: list[dict[str, Any]] = []
    while not found:
        assert time.monotonic() < deadline, "no turn in the ledger within 90 s"
        await watch.fire()
        found = await service.store.read(ledger_rows)
        await asyncio.sleep(0.2)
    (row,) = found
    answered = [r for r in rig.model.requests() if "count my tokens" in str(r.get("prompt"))]
    assert asked in answered
    assert (row["task_id"], row["agent"], row["account"], row["cli"], row["source"]) == (
        task.id, AGENT, "test-account", rig.cli, "protocol",
    )  # fmt: skip
    # the usage localmodel reported for the turn's answer. opencode also asks for a title
    # with the prompt in it (answered by the same step: measured with opencode 1.18.33, two
    # requests of 4321 in / 87 out each): its turn's usage leaves that request out, and so
    # does the ledger (docs/watching.md says so)
    assert len(answered) == (2 if rig.cli == "opencode" else 1)
    assert row["output_tokens"] == OUT, row
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] == IN, row
    if rig.cli == "claude-code":  # its cost, from its own price of the model it asked
        assert row["cost_from"] == "cli" and 0 < row["cost_usd"] < 1
        assert row["model"]
    else:  # opencode's model is localmodel's: no price
        assert (row["cost_usd"], row["cost_from"]) == (None, None)
    spend = await service.costs.of_task(task.id)
    assert spend["cost"].turns == 1
