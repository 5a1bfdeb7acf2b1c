"""``swarm desktop up --headless``: the agents' tmux sessions without windows or a display.

The same ``swarm-<agent>`` sessions ``desktop up`` shows in terminal windows, started in each
agent's workspace with swarm's environment, on the home's own tmux server (or the agents
file's ``tmux_socket``); no window is opened and no X display is needed (a server or a VM
over SSH). The agents file gets ``delivery = "tmux"``, each agent's ``tmux`` pane and
``tmux_socket``, so the coordinator (or the delivery node of this machine) types prompts
straight into the panes. ``swarm attach AGENT`` shows one; ``down`` and resume behave as for
windows (the state file is the one ``desktop up`` keeps)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automation import tmux_sessions as tmux
from automation.agents_file_writer import write_agent_values
from automation.launch import (
    NO_CELL,
    AgentStatus,
    DesktopConfig,
    Outcome,
    Planned,
    TerminalSessions,
    planned,
    stopped,
)
from core.errors import InvalidInput, InvalidState
from core.models import Agent

log = logging.getLogger(__name__)


def plan(
    agents: Sequence[Agent],
    config: DesktopConfig,
    workspace_of: Callable[[str], Path | None],
    count: int | None = None,
    default_folder: Path | None = None,
) -> tuple[list[Planned], list[str]]:
    """The first ``count`` agents (all by default) that run in a terminal, and the ids of
    those left out (an editor needs a display)."""
    if count is not None and not 0 < count <= len(agents):
        raise InvalidInput(
            f"--agents must be from 1 to {len(agents)} (the agents file has {len(agents)})"
        )
    chosen = list(agents) if count is None else list(agents)[:count]
    folder = default_folder or Path.cwd()
    made = [
        planned(agent, config, NO_CELL, workspace_of(agent.id) or folder)
        for agent in chosen
        if config.launches[agent.id].kind == "terminal"
    ]
    left = [agent.id for agent in chosen if config.launches[agent.id].kind != "terminal"]
    return made, left


class HeadlessSession:
    """Start, find and end the agents' tmux sessions of one swarm home; no display (the
    tmux route's :class:`automation.launch.Launcher`)."""

    def __init__(
        self,
        home: Path,
        config_path: Path,
        env: Mapping[str, str] | None = None,
        agent_swarm: str = "swarm",
    ) -> None:
        self.sessions = TerminalSessions(home, config_path, env, agent_swarm)
        self.config_path = config_path
        self.env = self.sessions.env
        self.notes = self.sessions.notes

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """Each agent's session and pane process."""
        return self.sessions.status(agent_ids)

    def down(self, agent_ids: Sequence[str], keep_sessions: bool = False) -> list[str]:
        """End the sessions of ``agent_ids`` (none with ``keep_sessions``: no window hides
        them); a line each ended."""
        return [] if keep_sessions else self.sessions.end(agent_ids)

    def started(self) -> set[str]:
        """The agents ``up`` started and ``down`` has not stopped."""
        return self.sessions.started()

    def check(self, planned: Sequence[Planned]) -> None:
        """tmux installed, when an agent is to start in it."""
        if planned:
            tmux.require_tmux()

    def up(
        self, planned: Sequence[Planned], timeout: float = 0.0, stop: threading.Event | None = None
    ) -> list[Outcome]:
        """Start the sessions that do not run (resumed when ``up`` started them before),
        keep the others, none more once ``stop`` is set; write ``delivery = "tmux"``, each
        pane and its server's socket to the agents file."""
        self.check(planned)
        state = self.sessions.load_state()
        outcomes: list[Outcome] = []
        try:
            for item in planned:
                if stopped(stop):
                    break
                outcomes.append(self._open(item, state))
        finally:  # those started before one failed run on: the agents file says their pane
            if outcomes:
                write_agent_values(self.config_path, {o.agent: o.values for o in outcomes})
            self.sessions.save_state(state)
        return outcomes

    def _open(self, item: Planned, state: dict[str, Any]) -> Outcome:
        """``item``'s session started or kept; what the agents file gets for it."""
        name, server = tmux.session_name(item.agent), self.sessions.server(item.agent)
        action = self.sessions.open(item, state)
        pane = tmux.pane(server, name)
        if pane is None:
            raise InvalidState(f"tmux session {name} of {item.agent} ended at once")
        values: dict[str, list[int] | str] = {
            **item.values,
            "app": "terminal",
            "delivery": "tmux",
            "tmux": pane.target,
            "tmux_socket": str(server.socket),  # (an agent's server always has one)
            **self.sessions.usage_values(item),
        }
        return Outcome(item.agent, action, session=name, values=values)
