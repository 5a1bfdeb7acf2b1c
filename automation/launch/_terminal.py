"""The agents' tmux sessions of one swarm home, as ``desktop up`` starts them: ``swarm-<agent>``
on the user's tmux server, running the agent's command (wrapped in its sandbox when it has one)
in its workspace with swarm's environment; found, ended, and remembered in the state file
(``$SWARM_HOME/desktop/state.json``: which agents ``up`` started, so that the next one resumes
them). The desktop shows them in terminal windows; the tmux route types into them."""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from automation import tmux_sessions as tmux
from automation.agents_file_writer import atomic_write
from automation.launch import sandbox
from automation.launch._config import fill, launch_env
from automation.launch._leftovers import end_leftovers
from automation.launch._seam import AgentStatus, Planned, cli_dir_value, cli_env, swarm_env
from core.clis import sessions_folder, with_launch_args, with_report_args
from core.errors import InvalidState, MissingDependency
from core.privacy.files import make_dirs
from core.sandbox import swarm_in

log = logging.getLogger(__name__)
STATE_FILE = "state.json"


class TerminalSessions:
    """Start, find and end the agents' tmux sessions of one swarm home."""

    def __init__(
        self,
        home: Path,
        config_path: Path,
        env: Mapping[str, str] | None = None,
        agent_swarm: str = "swarm",
    ) -> None:
        self.home = home
        self.config_path = config_path
        self.env = tmux.server_env(os.environ if env is None else env)
        self.agent_swarm = agent_swarm  # how the agents call swarm (their reports)
        self.state_path = home / "desktop" / STATE_FILE
        self.notes: dict[str, list[str]] = {}  # agent -> what up did besides (in words)

    def open(self, item: Planned, state: dict[str, Any]) -> str:
        """``item``'s session kept when it runs (``reattached`` when ``ended`` says its window
        is gone), else started: resumed when an earlier ``up`` started it; the action."""
        name = tmux.session_name(item.agent)
        if tmux.exists(self.env, name):
            action = "kept"
            self._refresh_gateway(item)
        else:
            resume = bool(state.get(item.agent, {}).get("started"))
            self.start(item, resume)
            action = "resumed" if resume else "started"
        state[item.agent] = {"started": True, "session": name, "workspace": str(item.workspace)}
        return action

    def start(self, item: Planned, resume: bool) -> None:
        """Start ``item``'s session (its resume command when ``resume``), in its sandbox when
        it has one, after ending what an earlier session left running in its workspace."""
        command = item.launch.resume if resume else item.launch.command
        swarm = swarm_in(item.sandbox, self.agent_swarm)  # (its door's, sandboxed)
        reporting = with_report_args(with_launch_args(command), swarm, item.agent_cli)
        line = fill(reporting, item.agent, item.workspace)
        if not item.workspace.is_dir():
            raise InvalidState(f"{item.agent}'s workspace {item.workspace} is not a folder")
        own = launch_env(item.launch, self.env)  # before anything is ended or started
        self._end_leftovers(item)
        extra = {
            **cli_env(item, self.env, self.home),
            **swarm_env(self.home, self.config_path, item.agent),
        }
        if item.sandbox is not None:
            line = sandbox.wrap_line(
                item.agent, item.sandbox, item.agent_cli, item.workspace, line,
                {**self.env, **extra}, self.home,
                given=list(own),  # the agents file's env enters with its CLI's
            )  # fmt: skip
        name = tmux.session_name(item.agent)
        tmux.start(self.env, name, line, item.workspace, extra, private=own)
        log.info("started tmux session %s: %s", name, line)

    def _refresh_gateway(self, item: Planned) -> None:
        """A kept sandbox's model gateway started again when it is not running (its allow-list
        reloaded, or it restarted, when its spec changed), said in ``notes``."""
        if item.sandbox is None:
            return
        env = {**self.env, **cli_env(item, self.env, self.home),
               **swarm_env(self.home, self.config_path, item.agent)}  # fmt: skip
        said = sandbox.refresh_gateway(self.home, item.agent, item.sandbox, item.agent_cli, env)
        if said:
            self.notes.setdefault(item.agent, []).append(said)

    def _end_leftovers(self, item: Planned) -> None:
        """End what an earlier session of the agent left running in its workspace (said in
        ``notes``); InvalidState when a process of its CLI not started by swarm runs there."""
        cli = item.agent_cli
        if cli is not None:
            said = end_leftovers(item.agent, self.home, item.workspace, cli.programs)
            self.notes.setdefault(item.agent, []).extend(said)

    def usage_values(self, item: Planned) -> dict[str, str]:
        """``cli_dir``: the folder of ``item``'s CLI's session files as its session runs it
        (``""``: not known, its command being a wrapper: its turns' usage is unknown); none
        for an editor's window or a CLI whose files swarm does not read."""
        cli = item.agent_cli
        if item.launch.kind != "terminal" or cli is None or cli.sessions is None:
            return {}
        env = {
            **self.env,
            **cli_env(item, self.env, self.home),
            **launch_env(item.launch, self.env),
        }
        try:
            words = shlex.split(fill(item.launch.command, item.agent, item.workspace))
        except ValueError:
            words = []
        folder = sessions_folder(cli, words, env)  # a sandboxed agent's: its own copy
        return cli_dir_value(
            item, sandbox.state_folder(self.home, item.agent, item.sandbox, folder, env)
        )

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """Each agent's session and its pane's process (no window)."""
        rows = []
        for agent in agent_ids:
            name = tmux.session_name(agent)
            pane = tmux.pane(self.env, name) if self.tmux_ok() else None
            rows.append(
                AgentStatus(
                    agent,
                    None,
                    None,
                    name if pane else None,
                    pane.command if pane else None,
                    pane.pid if pane else None,
                    bool(pane and not pane.dead and tmux.alive(pane.pid)),
                )
            )
        return rows

    def end(self, agent_ids: Sequence[str]) -> list[str]:
        """End the sessions of ``agent_ids`` and forget them (the next ``up`` starts them
        afresh, not with resume); a line each ended."""
        ended = []
        for agent in agent_ids:
            name = tmux.session_name(agent)
            if self.tmux_ok() and tmux.kill(self.env, name):
                ended.append(f"{agent}: session {name} ended")
        state = self.load_state()
        for agent in agent_ids:
            state.pop(agent, None)
        self.save_state(state)
        return ended

    def started(self) -> set[str]:
        """The agents ``up`` started and ``down`` has not stopped."""
        return set(self.load_state())

    def load_state(self) -> dict[str, Any]:
        """The state file's agents (empty when it is missing or unreadable)."""
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_state(self, state: Mapping[str, Any]) -> None:
        """The state file written whole."""
        make_dirs(self.state_path.parent)
        atomic_write(self.state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")

    def tmux_ok(self) -> bool:
        """Whether tmux is installed (``status`` and ``down`` need none)."""
        try:
            tmux.require_tmux()
        except MissingDependency:
            return False
        return True
