"""A fleet of ``swarm run`` coordinators and ``swarm node`` processes on one database, and
agents played by the test: the parts of the multi-node kill tests."""

from __future__ import annotations

from pathlib import Path

from core.models import DeliveryState
from core.service.swarm import SwarmService
from tests.pg.procs import Proc, start


class Fleet:
    """The processes, each on its own home (so its inbox files and input lock are its own).

    A name starting with ``coord`` is a ``swarm run --no-discord``, any other a ``swarm node``
    of that name; ``extra_env`` adds variables to a process by name (a display, driver
    tunables), ``leases`` sets a node's ``--lease`` (default 2 s) and the processes named in
    ``verbose`` log debug lines too."""

    def __init__(
        self,
        tmp_path: Path,
        url: str,
        config: Path,
        extra_env: dict[str, dict[str, str]] | None = None,
        leases: dict[str, float] | None = None,
        verbose: tuple[str, ...] = (),
    ) -> None:
        self.tmp_path, self.url, self.config = tmp_path, url, config
        self.extra_env = extra_env or {}
        self.leases = leases or {}
        self.verbose = verbose
        self.procs: dict[str, Proc] = {}
        self.starts = 0
        self.kills: list[str] = []

    def home(self, name: str) -> Path:
        return self.tmp_path / name

    def launch(self, name: str) -> None:
        self.starts += 1
        env = {
            "SWARM_HOME": str(self.home(name)),
            "SWARM_CONFIG": str(self.config),
            "SWARM_DATABASE_URL": self.url,
            "SWARM_FAILOVER": "1",
            **self.extra_env.get(name, {}),
        }
        args = (
            ("run", "--no-discord")
            if name.startswith("coord")
            else ("node", "--name", name, "--lease", f"{self.leases.get(name, 2):g}")
        )
        flags = ("--verbose",) if name in self.verbose else ()
        self.procs[name] = start(f"{name}.{self.starts}", self.tmp_path, env, *flags, *args)

    def kill_and_restart(self, name: str) -> None:
        self.procs[name].kill9()
        self.kills.append(name)
        self.launch(name)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


async def play_agents(service: SwarmService, done: set[int]) -> None:
    """Agents report done once their prompt was delivered to them."""
    delivered = {
        (d.task_id, d.agent)
        for d in await service.messages.deliveries(limit=10_000)
        if d.state is DeliveryState.delivered and d.task_id is not None
    }
    for task in await service.tasks.newest(status="assigned", limit=1000):
        if (task.id, task.agent) in delivered and task.id not in done:
            await service.tasks.complete(task.id, task.agent or "", "ok")
            done.add(task.id)


def inbox_texts(folder: Path) -> list[str]:
    """Every inbox file's text under ``folder`` (every home's)."""
    return [p.read_text() for p in folder.rglob("inbox/*/*.txt")]
