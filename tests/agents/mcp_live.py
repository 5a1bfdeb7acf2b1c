"""swarm's MCP server for a live CLI: a real SWARM_HOME (agent ``A``, with ``mcp = true``,
holding one task), swarm's entry written into the CLI's work folder before the CLI starts
(as ``swarm agents mcp install`` writes it for an agent of that CLI), and what swarm
recorded once the CLI's model called ``report``."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.agents import _workspace_files as workspace_files
from core.clis import by_name, mcp_files
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from core.tasks import _read_queries as read_queries
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
    database_url: str | None = None  # None: SQLite in the home

    @property
    def settings(self) -> Settings:
        return Settings.from_env(
            {"SWARM_HOME": str(self.home), "SWARM_CONFIG": str(self.config), **self.cli_env}
        )

    @property
    def cli_env(self) -> dict[str, str]:
        """What the CLI's own environment holds for swarm: the database URL, which swarm
        never writes into the MCP entry's file (the CLI passes it on to the server)."""
        return {"SWARM_DATABASE_URL": self.database_url} if self.database_url else {}


@contextlib.contextmanager
def desk_on_postgresql(request: pytest.FixtureRequest, root: Path, cli: str) -> Iterator[Desk]:
    """:func:`prepare` on a fresh database of the session's PostgreSQL cluster, as a swarm
    across machines keeps its store (a desk on SQLite where PostgreSQL is not installed and
    not required): swarm's MCP server must reach the store that the CLI's environment
    names, whatever the CLI passes on to its servers."""
    try:
        server = request.getfixturevalue("pg_server")
    except pytest.skip.Exception:
        server = None
    url = server.fresh_database() if server is not None else None
    try:
        yield prepare(root, cli, url)
    finally:
        if server is not None and url is not None:
            server.drop(url)


def desk_fixture(cli: str) -> Any:
    """A live module's ``desk`` (module-scoped): a SWARM_HOME where agent A holds a task, its
    store on PostgreSQL (:func:`desk_on_postgresql`), and the work folder with swarm's MCP
    server in ``cli``'s file, written before the CLI starts and reads it."""

    @pytest.fixture(scope="module")
    def desk(
        tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
    ) -> Iterator[Desk]:
        with desk_on_postgresql(request, tmp_path_factory.mktemp(cli).resolve(), cli) as made:
            yield made

    return desk


def prepare(root: Path, cli: str, database_url: str | None = None) -> Desk:
    """A's SWARM_HOME under ``root`` (its store at ``database_url`` when given) with one
    task assigned to A, and ``root/work`` with swarm's MCP server in ``cli``'s file (the
    worktree's code on its PYTHONPATH)."""
    home, work = root / "swarm", root / "work"
    home.mkdir(parents=True)
    work.mkdir()
    config = root / "agents.toml"
    lines = ["[[agent]]", f'id = "{AGENT}"', 'role = "dev"', 'delivery = "inbox"',
             f'cli = "{cli}"', "mcp = true", ""]  # fmt: skip
    config.write_text("\n".join(lines), encoding="utf-8")
    desk = Desk(home, config, "", work, database_url)
    desk = Desk(home, config, asyncio.run(_give(desk.settings)), work, database_url)
    env = {"SWARM_AGENT": AGENT, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = mcp_files.Server(sys.executable, ("-m", "bot.cli", "mcp"), env)
    known = by_name(cli)
    assert known is not None and known.mcp is not None
    changes = workspace_files.install_mcp(home, work, cli, server)
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
        task = await service.store.read(read_queries.get_task, number)
        return task.status.value, [e.text for e in await service.history.events(task=number)]
    finally:
        await service.close()
