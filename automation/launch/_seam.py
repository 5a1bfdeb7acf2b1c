"""The seam every route starts its agents by: a :class:`Launcher` (``up``, ``down``,
``status`` of the agents it was given), the agent to start (:class:`Planned`) and what was
done (:class:`Outcome`). The desktop's windows, the tmux route's headless sessions and the
protocol route's hosts each implement it; ``desktop up`` composes them (:class:`Fleet`). A
``stop`` (the person's Ctrl+C) is looked at before each agent: the agents started so far are
written and returned, the rest left unstarted."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from automation.launch._config import DesktopConfig, Launch
from core.clis import AgentCli, by_name, for_command
from core.clis.logs import log_path
from core.errors import InvalidState
from core.models import Agent, Sandbox
from core.privacy.files import make_dirs

Cell = tuple[int, int, int, int]  # left, top, width, height: a window's place on the screen
NO_CELL: Cell = (0, 0, 0, 0)  # an agent without a window


@dataclass(frozen=True)
class Planned:
    """One agent to start: its launch, its working folder, its window's cell (a desktop's)."""

    agent: str
    launch: Launch
    cell: Cell
    workspace: Path
    cli: str | None = None  # written to the agents file: its own, else the command's CLI
    cli_dir: str | None = None  # the agents file's own (a person's, for a wrapper script)
    sandbox: Sandbox | None = None  # its CLI runs under bubblewrap (automation.launch.sandbox)
    gateway: bool = False  # unsandboxed, its model through swarm's gateway (``gateway = true``)

    @property
    def values(self) -> dict[str, list[int] | str]:
        """What the agents file gets besides the route's values: its ``cli``."""
        return {"cli": self.cli} if self.cli else {}

    @property
    def agent_cli(self) -> AgentCli | None:
        """Its CLI (``core.clis.AgentCli``): its ``cli``, else the one its command starts."""
        return by_name(self.cli) or for_command(self.launch.command)


@dataclass
class Outcome:
    """What ``up`` did for one agent."""

    agent: str
    action: str  # kept | reattached | resumed | started
    window: int | None = None
    box: Cell | None = None
    session: str | None = None
    values: dict[str, list[int] | str] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentStatus:
    """One agent's window, session or host, and process (``swarm desktop status``)."""

    agent: str
    window: int | None
    box: Cell | None
    session: str | None
    process: str | None  # the pane's command, the host's, or None
    pid: int | None
    alive: bool

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


class Launcher(Protocol):
    """A route's start of its agents (each of one swarm home)."""

    notes: dict[str, list[str]]  # agent -> what ``up`` did besides, in words

    def up(
        self, planned: Sequence[Planned], timeout: float, stop: threading.Event | None = None
    ) -> list[Outcome]:
        """Start what does not run of ``planned``, keep what does; the agents file written.
        Once ``stop`` is set no other agent is started."""
        ...

    def check(self, planned: Sequence[Planned]) -> None:
        """Raise :class:`InvalidState` (one line) for an agent of ``planned`` this route
        cannot start (its program or tool missing), before anything is started or ended."""
        ...

    def down(self, agent_ids: Sequence[str], keep_sessions: bool = False) -> list[str]:
        """End (or, ``keep_sessions``, only hide) the agents' routes; a line each."""
        ...

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """Each agent's place and process as this route sees it."""
        ...


class Fleet:
    """Several launchers as one: each planned agent goes to the first whose ``takes`` says
    so (the protocol hosts before the tmux sessions); ``down`` asks every one."""

    def __init__(self, parts: Sequence[tuple[Callable[[Planned], bool], Launcher]]) -> None:
        self.parts = list(parts)
        self.notes: dict[str, list[str]] = {}

    def up(
        self, planned: Sequence[Planned], timeout: float, stop: threading.Event | None = None
    ) -> list[Outcome]:
        """Each part's agents started by it, in the parts' order; an agent that ran by
        another part (its route changed: a tmux session now hosted, a host now in a pane) is
        ended there first, said in its notes. Once ``stop`` is set no other is started."""
        outcomes: list[Outcome] = []
        shares = self._shares(planned)
        _check(shares)  # what cannot start stops all before any other route is ended
        for part, mine in shares:
            if mine and not stopped(stop):
                ended = self._end_elsewhere(part, [item.agent for item in mine])
                try:
                    outcomes += part.up(mine, timeout, stop)
                except InvalidState as exc:  # what it ended is said with why it stopped
                    if not ended:
                        raise
                    raise InvalidState(f"{exc} (before it: {'; '.join(ended)})") from None
            self._take_notes(part)
        return outcomes

    def check(self, planned: Sequence[Planned]) -> None:
        """Each part's check of the agents it takes."""
        _check(self._shares(planned))

    def _shares(self, planned: Sequence[Planned]) -> list[tuple[Launcher, list[Planned]]]:
        """Each part with the agents of ``planned`` it takes (the first part that takes one)."""
        left, shares = list(planned), []
        for takes, part in self.parts:
            shares.append((part, [item for item in left if takes(item)]))
            left = [item for item in left if not takes(item)]
        return shares

    def _end_elsewhere(self, keeper: Launcher, agents: list[str]) -> list[str]:
        """End ``agents`` on every part but ``keeper``, a note each ended; the lines."""
        ended = []
        for _, part in self.parts:
            if part is not keeper:
                for line in part.down(agents):
                    agent, _, said = line.partition(": ")
                    self.notes.setdefault(agent, []).append(f"{said}: its route changed")
                    ended.append(f"{line}: its route changed")
        return ended

    def _take_notes(self, part: Launcher) -> None:
        for agent, lines in part.notes.items():
            self.notes.setdefault(agent, []).extend(lines)
        part.notes.clear()

    def down(self, agent_ids: Sequence[str], keep_sessions: bool = False) -> list[str]:
        """What every part ended."""
        return [line for _, part in self.parts for line in part.down(agent_ids, keep_sessions)]

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """The first part's row of each agent that has one (a window before a session)."""
        found: dict[str, AgentStatus] = {}
        for _, part in self.parts:
            for row in part.status(agent_ids):
                found.setdefault(row.agent, row)
        return [found[a] for a in agent_ids if a in found]


def _check(shares: Sequence[tuple[Launcher, Sequence[Planned]]]) -> None:
    for part, mine in shares:
        if mine:
            part.check(mine)


def stopped(stop: threading.Event | None) -> bool:
    """Whether the person stopped ``up`` (a launcher starts no other agent)."""
    return stop is not None and stop.is_set()


def planned(agent: Agent, config: DesktopConfig, cell: Cell, workspace: Path) -> Planned:
    """``agent`` to start on ``cell`` in ``workspace``, with its launch and its CLI."""
    launch = config.launches[agent.id]
    return Planned(
        agent.id,
        launch,
        cell,
        workspace,
        agent_cli(agent, launch),
        agent.cli_dir or None,
        agent.sandbox,
        agent.gateway and agent.sandbox is None,
    )


def agent_cli(agent: Agent, launch: Launch) -> str | None:
    """The agent's ``cli``: its own, else the one its command starts (``claude`` is
    claude-code: without it the pane was read with every rule file)."""
    if agent.cli:
        return agent.cli
    cli = for_command(launch.command) if launch.kind == "terminal" else None
    return cli.name if cli else None


def cli_env(item: Planned, env: Mapping[str, str], home: Path) -> dict[str, str]:
    """What ``item``'s agent CLI (its ``cli``, else the one its command starts) needs in its
    environment: its ``env`` where ``env`` does not already say (opencode: its mouse off),
    and the debug log swarm reads, always swarm's (Gemini CLI: a file named in swarm's own
    environment would be one swarm never reads), its folder made."""
    cli = item.agent_cli
    if cli is None:
        return {}
    wanted = {k: v for k, v in cli.env.items() if k not in env}
    if cli.debug_log is not None:
        make_dirs(log_path(home, item.agent).parent)
        wanted[cli.debug_log] = str(log_path(home, item.agent))
    return wanted


def cli_dir_value(item: Planned, folder: Path | None) -> dict[str, str]:
    """``cli_dir`` for the agents file: the folder swarm worked out; where it cannot (a
    wrapper script), the one the file has (a person set it), else ``""`` (unknown)."""
    if folder is None and item.cli_dir:
        return {}
    return {"cli_dir": "" if folder is None else str(folder)}


def swarm_env(home: Path, config_path: Path, agent: str) -> dict[str, str]:
    """What every agent's process is told of swarm: its name, swarm's home and agents file."""
    return {"SWARM_AGENT": agent, "SWARM_HOME": str(home), "SWARM_CONFIG": str(config_path)}
