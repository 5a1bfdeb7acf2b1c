"""swarm's MCP server for a live CLI: a real SWARM_HOME (agent ``A``, with ``mcp = true``,
holding one task), swarm's entry written into the CLI's work folder before the CLI starts
(as ``swarm agents mcp install`` writes it for an agent of that CLI), and what swarm
recorded once the CLI's model called ``report``."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from core.agents import mcp_files
from core.clis import by_name
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store import tables
from tests.helpers import ROOT

AGENT = "A"
# a script's turn: the model calls swarm's report tool, then says it did
TURN = """
[[turns]]
match = "report to swarm"
steps = [{ tool = "report", input = { action = "start", note = "begun" } }, { text = "reported" }]
"""


@dataclass(frozen=True)
class Desk:
    """A SWARM_HOME, its agents file, the task agent A holds, and the CLI's work folder."""

    home: Path
    config: Path
    task: str
    work: Path

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"SWARM_HOME": str(self.home), "SWARM_CONFIG": str(self.config)})


def prepare(root: Path, cli: str) -> Desk:
    """A's SWARM_HOME under ``root`` with one task assigned to A, and ``root/work`` with
    swarm's MCP server in ``cli``'s file (the worktree's code on its PYTHONPATH)."""
    home, work = root / "swarm", root / "work"
    home.mkdir(parents=True)
    work.mkdir()
    config = root / "agents.toml"
    lines = ["[[agent]]", f'id = "{AGENT}"', 'role = "dev"', 'delivery = "inbox"',
             f'cli = "{cli}"', "mcp = true", ""]  # fmt: skip
    config.write_text("\n".join(lines), encoding="utf-8")
    desk = Desk(home, config, "", work)
    desk = Desk(home, config, asyncio.run(_give(desk.settings)), work)
    env = {"SWARM_AGENT": AGENT, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = mcp_files.Server(sys.executable, ("-m", "bot.cli", "mcp"), env)
    known = by_name(cli)
    assert known is not None and known.mcp is not None
    changes = mcp_files.install(home, work, server, known.mcp)
    assert [c.what for c in changes] == ["added"], changes
    return desk


async def _give(settings: Settings) -> str:
    service = await SwarmService.open(settings)
    try:
        task = await service.tasks.create(TaskSpec("Say you began", "", agent=AGENT), "cli")
        await service.queue.assign_batch()
        return task.ref
    finally:
        await service.close()


def task_now(desk: Desk) -> tuple[str, list[str]]:
    """The task's status and the texts of its events, as swarm recorded them."""
    return asyncio.run(_read(desk))


async def _read(desk: Desk) -> tuple[str, list[str]]:
    service = await SwarmService.open(desk.settings)
    try:
        number = int(desk.task[2:])
        task = await service.store.read(tables.get_task, number)
        return task.status.value, [e.text for e in await service.history.events(task=number)]
    finally:
        await service.close()
