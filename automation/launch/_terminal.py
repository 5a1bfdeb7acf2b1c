"""The agents' tmux sessions of one swarm home, as ``desktop up`` starts them: ``swarm-<agent>``
on the home's own tmux server (or the agents file's ``tmux_socket``), running the agent's
command (wrapped in its sandbox when it has one) in its workspace with swarm's environment;
found, ended, and remembered in the state file (``$SWARM_HOME/desktop/state.json``: which
agents ``up`` started, so that the next one resumes them). The desktop shows them in terminal
windows; the tmux route types into them. A session an older swarm started for this home on
the person's default server is found (``status``), moved to the home's server by ``up`` and
ended by ``down``."""

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
from core.agents_file import load_team
from core.clis import sessions_folder, with_launch_args, with_report_args
from core.errors import ConfigError, InvalidState, MissingDependency
from core.models import Sandbox
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
        self._sockets: dict[str, str | None] | None = None  # the agents file's tmux_socket

    def server(self, agent: str) -> tmux.Server:
        """``agent``'s tmux server: the agents file's ``tmux_socket``, else the home's own."""
        return tmux.server_of(self._named().get(agent), self.home, self.env)

    def _named(self) -> dict[str, str | None]:
        """Each agent's ``tmux_socket`` in the agents file (read once)."""
        if self._sockets is None:
            try:
                agents, parked = load_team(self.config_path)
            except (ConfigError, OSError):
                agents, parked = [], []
            self._sockets = {a.id: a.tmux_socket for a in [*agents, *parked]}
        return self._sockets

    def servers(self) -> list[tmux.Server]:
        """Every server this home's sessions may be on: its own, the agents file's, and the
        default one (an older swarm's)."""
        own = tmux.server_of(None, self.home, self.env)
        named = sorted({s for s in self._named().values() if s})
        return list(dict.fromkeys([own, *(tmux.Server(s, self.env) for s in named),
                                   self.default]))  # fmt: skip

    @property
    def default(self) -> tmux.Server:
        """The person's default tmux server (where an older swarm started its sessions)."""
        return tmux.Server(None, self.env)

    def older(self, agent: str) -> tmux.Session | None:
        """``agent``'s session an older swarm started for this home on the default server
        (None: none, or the agent's own server is that one)."""
        if tmux.same_server(self.server(agent), self.default):
            return None
        name = tmux.session_name(agent)
        found = tmux.session_home(self.default, name)
        if found is None or not tmux.same_home(found, self.home):
            return None
        pane = tmux.pane(self.default, name)
        return tmux.Session(name, self.default, pane, found) if pane else None

    def open(self, item: Planned, state: dict[str, Any]) -> str:
        """``item``'s session kept when it runs (``reattached`` when ``ended`` says its window
        is gone), else started: resumed when an earlier ``up`` started it; the action."""
        name, server = tmux.session_name(item.agent), self.server(item.agent)
        moved = self._end_older(item.agent)
        if tmux.exists(server, name):
            self._require_ours(item.agent, server, name)
            action = "kept"
            self._refresh_gateway(item)
        else:
            resume = moved or bool(state.get(item.agent, {}).get("started"))
            self.start(item, resume)
            action = "resumed" if resume else "started"
        state[item.agent] = {"started": True, "session": name, "socket": server.socket,
                             "workspace": str(item.workspace)}  # fmt: skip
        return action

    def _end_older(self, agent: str) -> bool:
        """End ``agent``'s session an older swarm left on the default server (said in
        ``notes``): it starts again on the home's own; whether there was one."""
        older = self.older(agent)
        if older is None or not tmux.kill(self.default, older.name):
            return False
        self.notes.setdefault(agent, []).append(
            f"session {older.name} an older swarm started on your default tmux server ended: "
            f"its agent runs on {self.server(agent).said} now"
        )
        return True

    def _require_ours(self, agent: str, server: tmux.Server, name: str) -> None:
        """InvalidState when session ``name`` on ``server`` is not this home's."""
        whose = self._whose(server, name)
        if whose is not None:
            raise InvalidState(
                f"{agent}: session {name} on {server.said} is {whose}, not {self.home}'s: "
                "give one of them another tmux_socket in its agents file (or none: each "
                "home has a tmux server of its own)"
            )

    def _whose(self, server: tmux.Server, name: str) -> str | None:
        """Whose running session ``name`` on ``server`` is, in words; None: this home's (its
        ``SWARM_HOME``, or none said on the home's own server)."""
        other = tmux.session_home(server, name)
        if other is not None:
            return None if tmux.same_home(other, self.home) else f"swarm home {other}'s"
        own = tmux.server_of(None, self.home, self.env)
        return None if tmux.same_server(server, own) else "no swarm home's"

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
        server = self.server(item.agent)
        if item.sandbox is not None:
            _socket_hidden(item.agent, server, item.sandbox, item.workspace, self.env)
            line = sandbox.wrap_line(  # its gateway's upstream and key: the agents file's too
                item.agent, item.sandbox, item.agent_cli, item.workspace, line,
                {**self.env, **extra, **own}, self.home,
                given=list(own),  # the agents file's env enters with its CLI's
            )  # fmt: skip
        elif item.gateway:  # its model through swarm's gateway, its key kept outside
            line = self._through_gateway(item, line, {**self.env, **extra, **own})
        name = tmux.session_name(item.agent)
        tmux.start(server, name, line, item.workspace, extra, private=own)
        log.info("started tmux session %s on %s: %s", name, server.said, line)

    def _refresh_gateway(self, item: Planned) -> None:
        """A kept sandbox's model gateway started again when it is not running (its allow-list
        reloaded, or it restarted, when its spec changed), said in ``notes``."""
        if item.sandbox is None:
            return
        env = {**self.env, **cli_env(item, self.env, self.home),
               **swarm_env(self.home, self.config_path, item.agent),
               **launch_env(item.launch, self.env)}  # fmt: skip
        said = sandbox.refresh_gateway(self.home, item.agent, item.sandbox, item.agent_cli, env)
        if said:
            self.notes.setdefault(item.agent, []).append(said)

    def _through_gateway(self, item: Planned, line: str, env: Mapping[str, str]) -> str:
        """``line`` started through its agent's gateway (``gateway = true``), said in
        ``notes``."""
        net = sandbox.gateway_network(self.home, item.agent, item.agent_cli, env)
        self.notes.setdefault(item.agent, []).append(net.said)
        command = ["/bin/sh", "-c", line]
        return shlex.join(sandbox.gateway_command(command, net, item.agent_cli))

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
            pane = self._pane(agent) if self.tmux_ok() else None
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

    def _pane(self, agent: str) -> tmux.Pane | None:
        """The first pane of ``agent``'s session: on its server, else an older swarm's."""
        found = tmux.pane(self.server(agent), tmux.session_name(agent))
        older = self.older(agent) if found is None else None
        return older.pane if older is not None else found

    def end(self, agent_ids: Sequence[str]) -> list[str]:
        """End the sessions of ``agent_ids`` (an older swarm's on the default server too)
        and forget them (the next ``up`` starts them afresh, not with resume); a line each
        ended."""
        ended = []
        for agent in agent_ids if self.tmux_ok() else ():
            name, server = tmux.session_name(agent), self.server(agent)
            whose = self._whose(server, name) if tmux.exists(server, name) else "none"
            if whose is None and tmux.kill(server, name):
                ended.append(f"{agent}: session {name} ended")
            elif whose != "none":
                log.warning("%s: session %s on %s is %s: left", agent, name, server.said, whose)
            older = self.older(agent)
            if older is not None and tmux.kill(self.default, older.name):
                ended.append(f"{agent}: session {name} an older swarm started on your "
                             "default tmux server ended")  # fmt: skip
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


def _socket_hidden(
    agent: str, server: tmux.Server, box: Sandbox, workspace: Path, env: Mapping[str, str]
) -> None:
    """InvalidState when ``agent``'s sandbox would show its tmux server's socket (its
    worktree or a ``sandbox_read``/``sandbox_write`` path holds it): a client there could
    type into every pane and run commands outside the sandbox."""
    if server.socket is None:
        return
    socket = Path(os.path.realpath(server.socket))
    user_home = env.get("HOME") or str(Path.home())
    for shown in (str(workspace), *box.read, *box.write):
        named = user_home + shown[1:] if shown == "~" or shown.startswith("~/") else shown
        folder = Path(os.path.realpath(named))
        if socket == folder or folder in socket.parents:
            raise InvalidState(
                f"{agent}: its tmux socket {server.socket} is inside {shown}, which its sandbox "
                "shows: a tmux client there could type into every pane outside the sandbox; "
                "name a tmux_socket elsewhere"
            )
