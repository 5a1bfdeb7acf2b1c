"""``swarm desktop up`` and ``down``, whatever the routes: the team read, the agents planned,
the ones not chosen parked, each workspace made ready (:mod:`.hooks`), each agent started by
its route's :class:`~automation.launch._seam.Launcher`; ``down`` ends them and closes their
doors. The routes' launchers are given (the command picks them: windows, sessions, hosts).
Each agent whose model has no price is said once (:func:`price_notes`). One ``up`` or ``down``
of a home runs at a time (:func:`one_at_a_time`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation.agents_file_writer import move_agents
from automation.launch import _hooks as hooks
from automation.launch import sandbox
from automation.launch._config import DesktopConfig, fill, launch_env, load_desktop
from automation.launch._seam import Launcher, Outcome, Planned, stopped
from core.agents_file import load_team
from core.clis import by_name, for_command
from core.costs import prices
from core.costs.agent_model import model_of, price_warning
from core.errors import InvalidInput
from core.models import Agent
from core.privacy.files import make_dirs
from core.workspaces import find


@dataclass(frozen=True)
class Team:
    """The agents file's agents of this ``up`` (one node's, when asked), its parked ones
    and its ``[desktop]`` section."""

    agents: list[Agent]
    parked: list[Agent]
    config: DesktopConfig

    @property
    def everyone(self) -> list[Agent]:
        """The agents, then the parked ones."""
        return [*self.agents, *self.parked]


@dataclass
class Up:
    """What ``up`` did: each agent's outcome, the lines said of each, the agents parked."""

    outcomes: list[Outcome]
    said: dict[str, list[str]]
    notes: dict[str, list[str]]
    parked: list[str] = field(default_factory=list)
    started: float = 0.0  # when the agents' sessions started (a prompt before was the old's)
    unstarted: list[str] = field(default_factory=list)  # left by the person's stop (Ctrl+C)


def team(
    config_path: Path, user_desktop: Mapping[str, Any] | None, node: str | None = None
) -> Team:
    """The team of ``config_path`` (``node``'s agents only, InvalidInput when it has none),
    checked: bwrap installed for a sandboxed agent, no editor asking for a sandbox."""
    agents, parked = load_team(config_path)
    ids = [a.id for a in [*agents, *parked]]
    config = load_desktop(config_path, ids, user_desktop)
    if node is not None:
        agents = [agent for agent in agents if agent.node == node]
        if not agents:
            raise InvalidInput(f"no agent has node = {node!r} in {config_path}")
    for agent in agents:
        if agent.sandbox is not None:
            sandbox.require_bwrap(agent.id)
    for refused, line in sandbox.editor_lines(agents, config).values():
        if refused:
            raise InvalidInput(line)
    return Team(agents, parked, config)


def editor_notes(chosen: Team) -> list[str]:
    """A line for each editor the ``[desktop]`` default left unsandboxed."""
    return [line for _, line in sandbox.editor_lines(chosen.agents, chosen.config).values()]


def workspace_finder(home: Path, agents: Sequence[Agent]) -> hooks.WorkspaceOf:
    """agent -> its own workspace (its ``workspace =``, else the worktree swarm made)."""
    by_id = {agent.id: agent for agent in agents}

    def workspace_of(agent: str) -> Path | None:
        found = find(home, by_id, agent)
        return found.path if found is not None else None

    return workspace_of


def hosted(
    planned: Sequence[Planned],
    chosen: Team,
    protocol: bool,
    speaks: Callable[[Planned], bool],
) -> set[str]:
    """The planned agents that get a host, not a pane: with ``protocol`` each whose CLI
    ``speaks`` a protocol; without, those of them the agents file says ``delivery =
    "protocol"`` of (a mixed fleet: ``--headless`` keeps each agent's own route)."""
    talking = {item.agent for item in planned if speaks(item)}
    if protocol:
        return talking
    return talking & {a.id for a in chosen.everyone if a.delivery == "protocol"}


def start(
    launcher: Launcher,
    reach: hooks.Reach,
    config_path: Path,
    chosen: Team,
    planned: Sequence[Planned],
    count: int | None = None,
    hosted: set[str] | None = None,
    with_hooks: bool = True,
    timeout: float = 20.0,
    stop: threading.Event | None = None,
    said: Callable[[str], None] = print,
) -> Up:
    """Park the agents ``count`` leaves out, make each planned agent's workspace ready, then
    start each by ``launcher``, the home held (:func:`one_at_a_time`); once ``stop`` is set
    (the person's Ctrl+C) no other agent is started, and those left are ``unstarted``."""
    with one_at_a_time(reach.home, stop, said) as held:
        if not held:  # stopped while another up or down ran
            return Up([], {}, {}, [], time.time(), [item.agent for item in planned])
        return _start(launcher, reach, config_path, chosen, planned, count, hosted,
                      with_hooks, timeout, stop)  # fmt: skip


def _start(
    launcher: Launcher,
    reach: hooks.Reach,
    config_path: Path,
    chosen: Team,
    planned: Sequence[Planned],
    count: int | None,
    hosted: set[str] | None,
    with_hooks: bool,
    timeout: float,
    stop: threading.Event | None,
) -> Up:
    parked = park_rest(launcher, config_path, chosen, planned, count)
    workspace_of = workspace_finder(reach.home, chosen.everyone)
    said = hooks.prepare(
        reach, config_path, chosen.everyone, planned, hosted or set(), workspace_of, with_hooks
    )
    started = time.time()
    outcomes = [] if stopped(stop) else launcher.up(planned, timeout, stop)
    done = {o.agent for o in outcomes}
    left = [item.agent for item in planned if item.agent not in done] if stopped(stop) else []
    return Up(outcomes, said, launcher.notes, parked, started, left)


def park_rest(
    launcher: Launcher,
    config_path: Path,
    chosen: Team,
    planned: Sequence[Planned],
    count: int | None,
) -> list[str]:
    """With ``count`` (``--agents N``): the agents not planned become ``[[parked]]`` (their
    windows closed, their sessions kept), the parked ones planned ``[[agent]]`` again; the
    agents parked."""
    if count is None:
        return []
    planned_ids = {item.agent for item in planned}
    park = [a.id for a in chosen.agents if a.id not in planned_ids]
    unpark = [a.id for a in chosen.parked if a.id in planned_ids]
    if park or unpark:
        move_agents(config_path, park=park, unpark=unpark)
    if park:
        launcher.down(park, keep_sessions=True)
    return park


WAITING = "waiting for another swarm desktop up or down of this swarm home to finish"


@contextlib.contextmanager
def one_at_a_time(
    home: Path, stop: threading.Event | None = None, said: Callable[[str], None] = print
) -> Iterator[bool]:
    """Hold the home's ``desktop`` folder (``flock``, released by the kernel on any exit)
    while an ``up`` or ``down`` runs: another of the same home waits for it (``WAITING``
    said once), so two never start one agent twice; False when ``stop`` was set while it
    waited (nothing is to be done)."""
    folder = home / "desktop"
    make_dirs(folder)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield _took(fd, stop, said)
    finally:
        os.close(fd)


def _took(fd: int, stop: threading.Event | None, said: Callable[[str], None]) -> bool:
    told = False
    while not stopped(stop):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if not told:
                said(WAITING)
                told = True
            time.sleep(0.1)
    return False


def down(
    launcher: Launcher,
    home: Path,
    agent_ids: Sequence[str],
    keep: bool,
    said: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> list[str] | None:
    """End (``keep``: only hide) the agents' routes and close their doors, the home held
    (:func:`one_at_a_time`; a home never made has nothing to end); a line each. None when
    ``stop`` (the person's Ctrl+C) was set while another up or down held the home: nothing
    was ended. Once the home is held, all of it is ended: a stop there does not leave an
    agent half down."""
    with one_at_a_time(home, stop, said) if home.is_dir() else contextlib.nullcontext(True) as held:
        if not held:
            return None
        closed = launcher.down(agent_ids, keep_sessions=keep)
        return closed if keep else closed + sandbox.close_doors(home, agent_ids)


def price_notes(
    outcomes: Sequence[Outcome], chosen: Team, env: Mapping[str, str], prices_file: Path | None
) -> dict[str, str]:
    """agent -> one line for each started agent whose model (its command's, its
    environment's, its CLI's config or default) has no price: its turns' cost will be
    unknown (``core.costs.agent_model``)."""
    table = prices.table(prices_file)
    agents = {a.id: a for a in chosen.everyone}
    said: dict[str, str] = {}
    for o in outcomes:
        launch, agent = chosen.config.launches.get(o.agent), agents.get(o.agent)
        if launch is None or agent is None or launch.kind != "terminal":
            continue
        cli = by_name(str(o.values.get("cli") or agent.cli or "")) or for_command(launch.command)
        if cli is None:
            continue
        try:
            argv = shlex.split(fill(launch.command, o.agent, Path(".")))
        except ValueError:
            continue
        runs = {**env, **launch_env(launch, env)}
        own = o.values.get("cli_dir")
        folder = Path(own) if isinstance(own, str) and own else None
        if folder is None and cli.sessions is not None:
            folder = cli.sessions.config_folder(runs)
        route = str(o.values.get("delivery") or agent.delivery)
        line = price_warning(cli, model_of(cli, argv, runs, folder), table, route)
        if line is not None:
            said[o.agent] = line
    return said
