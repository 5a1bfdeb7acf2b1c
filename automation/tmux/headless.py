"""``swarm desktop up --headless``: the agents' tmux sessions without windows or a display.

The same ``swarm-<agent>`` sessions ``desktop up`` shows in terminal windows, started in each
agent's workspace with swarm's environment, on the user's tmux server of this machine; no
window is opened and no X display is needed (a server or a VM over SSH). The agents file gets
``delivery = "tmux"`` and each agent's ``tmux`` pane, so the coordinator (or the delivery node
of this machine) types prompts straight into the panes. ``swarm attach AGENT`` shows one;
``down`` and resume behave as for windows (the state file is the one ``desktop up`` keeps).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from automation import tmux_sessions as tmux
from automation.agents_file_writer import write_agent_values
from automation.desktop.screen import Rect
from automation.desktop.session import DesktopSession, Outcome, Planned, planned
from automation.desktop.window_place import WindowInfo
from automation.desktop_config import DesktopConfig
from core.errors import InvalidInput, InvalidState
from core.models import Agent

log = logging.getLogger(__name__)

NO_CELL = Rect(0, 0, 0, 0)  # a headless agent has no place on a screen


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


class HeadlessSession(DesktopSession):
    """Start, find and end the agents' tmux sessions of one swarm home; no display."""

    def __init__(self, home: Path, config_path: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.config_path = config_path
        self.env = tmux.server_env(os.environ if env is None else env)
        self.state_path = home / "desktop" / "state.json"
        self._before = set()
        self.notes = {}

    def windows(self) -> dict[str, WindowInfo]:
        """None: there is no display (``down`` and ``status`` see the sessions only)."""
        return {}

    def up(self, planned: Sequence[Planned], timeout: float = 0.0) -> list[Outcome]:
        """Start the sessions that do not run (resumed when ``up`` started them before),
        keep the others; write ``delivery = "tmux"`` and each pane to the agents file."""
        if planned:
            tmux.require_tmux()
        state = self._load_state()
        outcomes = []
        for item in planned:
            name = tmux.session_name(item.agent)
            if tmux.exists(self.env, name):
                action = "kept"
            else:
                resume = bool(state.get(item.agent, {}).get("started"))
                self._start_session(item, name, resume)
                action = "resumed" if resume else "started"
            state[item.agent] = {"started": True, "session": name, "workspace": str(item.workspace)}
            pane = tmux.pane(self.env, name)
            if pane is None:
                raise InvalidState(f"tmux session {name} of {item.agent} ended at once")
            values: dict[str, list[int] | str] = {
                **item.values,
                "app": "terminal",
                "delivery": "tmux",
                "tmux": pane.target,
                **self.usage_values(item),
            }
            outcomes.append(Outcome(item.agent, action, session=name, values=values))
        if outcomes:
            write_agent_values(self.config_path, {o.agent: o.values for o in outcomes})
        self._save_state(state)
        return outcomes
