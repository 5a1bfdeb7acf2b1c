"""``swarm desktop up --headless --protocol``: each agent whose CLI speaks a protocol (ACP:
Gemini CLI, opencode, Codex through codex-acp; Claude Code's stream-json) runs under its own
host process (``core.hosts``) instead of a tmux pane; the others (Aider, any command swarm
does not know) get their tmux sessions as with ``--headless``.

The agent's command stays the user's (the ``[desktop]`` section: a wrapper, extra flags);
swarm adds what its protocol needs (``core.clis.protocol_command``). The agents file gets
``delivery = "protocol"``. An agent that wants swarm's MCP tools gets its server with its
session (``mcp_for``); a sandboxed one its door's ``swarm mcp``, which its CLI starts inside.
A host outlives ``swarm run``: ``up`` again keeps a running one (one whose agent exited is
started anew), ``down`` ends it (and its agent).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automation.agents_file_writer import write_agent_values
from automation.launch import (
    AgentStatus,
    Outcome,
    Planned,
    cli_dir_value,
    cli_env,
    fill,
    launch_env,
    stopped,
    swarm_env,
)
from automation.launch import sandbox as sandboxing
from automation.protocol import launch
from core.clis import (
    AgentCli,
    by_name,
    for_command,
    protocol_command,
    sessions_folder,
    with_report_args,
)
from core.errors import InvalidState
from core.hosts import running
from core.sandbox import DOOR_SWARM, swarm_in

log = logging.getLogger(__name__)
McpFor = Callable[[str], list[dict[str, Any]]]  # agent -> the MCP servers of its session


def protocol_cli(item: Planned) -> AgentCli | None:
    """The CLI of ``item`` when it speaks a protocol swarm drives, else None."""
    cli = by_name(item.cli) or for_command(item.launch.command)
    if item.launch.kind != "terminal" or cli is None or not cli.speaks_protocol:
        return None
    return cli


class ProtocolSession:
    """The hosts of the protocol agents of one swarm home; no display (the protocol route's
    :class:`automation.launch.Launcher`)."""

    def __init__(
        self,
        home: Path,
        config_path: Path,
        env: Mapping[str, str] | None = None,
        mcp_for: McpFor | None = None,
        only: set[str] | None = None,
        agent_swarm: str = "swarm",
    ) -> None:
        self.home = home
        self.config_path = config_path
        self.host_env = dict(os.environ if env is None else env)
        self.mcp_for = mcp_for or (lambda _agent: [])
        self.only = only  # the agents hosted (None: every one whose CLI speaks a protocol)
        self.agent_swarm = agent_swarm  # how the agents call swarm (their reports)
        self.notes: dict[str, list[str]] = {}

    def up(
        self, planned: Sequence[Planned], timeout: float = 0.0, stop: threading.Event | None = None
    ) -> list[Outcome]:
        """Start the hosts of ``planned`` that do not run (keep the others), none more once
        ``stop`` is set; the agents file says each one's delivery."""
        started: list[Outcome] = []
        try:
            for item in planned:
                if stopped(stop):
                    break
                started.append(self._host(item))
        finally:  # those started before one failed run on: the agents file says their route
            if started:
                write_agent_values(self.config_path, {o.agent: o.values for o in started})
        return started

    def takes(self, item: Planned) -> bool:
        """Whether ``item`` runs under a host here (its CLI speaks a protocol, and it is one
        of ``only``)."""
        return protocol_cli(item) is not None and (self.only is None or item.agent in self.only)

    def down(self, agent_ids: Sequence[str], keep_sessions: bool = False) -> list[str]:
        """End the hosts (and their agents) of ``agent_ids`` (none with ``keep_sessions``:
        the next ``up`` keeps a running host); a line each ended."""
        return [] if keep_sessions else stop_hosts(self.home, agent_ids)

    def status(self, agent_ids: Sequence[str]) -> list[AgentStatus]:
        """Each agent whose host runs: its host's pid (its agent is the host's to tell)."""
        rows = []
        for agent in agent_ids:
            pid = running.host_pid(self.home, agent)
            if pid is not None:
                rows.append(AgentStatus(agent, None, None, f"host pid {pid}", "protocol host",
                                        pid, True))  # fmt: skip
        return rows

    def check(self, planned: Sequence[Planned]) -> None:
        """Each agent's workspace a folder, its command one swarm can host and its protocol's
        program (Codex's ``codex-acp``) installed, or one line saying which is not."""
        for item in planned:
            self._prepared(item)

    def _prepared(self, item: Planned) -> tuple[AgentCli, list[str], dict[str, str]]:
        """The CLI of ``item``, the command its host starts (before a sandbox or gateway)
        and its environment; :class:`InvalidState` when it cannot start."""
        cli = protocol_cli(item)
        assert cli is not None and cli.protocol is not None
        if not item.workspace.is_dir():
            raise InvalidState(f"{item.agent}'s workspace {item.workspace} is not a folder")
        try:
            swarm = swarm_in(item.sandbox, self.agent_swarm)  # (its door's, sandboxed)
            line = with_report_args(item.launch.command, swarm, cli)
            command = protocol_command(fill(line, item.agent, item.workspace), cli)
        except ValueError as exc:
            raise InvalidState(f"{item.agent}: {exc}") from None
        env = {
            **self.host_env,
            **cli_env(item, self.host_env, self.home),
            **launch_env(item.launch, self.host_env),
            **swarm_env(self.home, self.config_path, item.agent),
        }
        _require_adapter(item.agent, cli, command, env)
        return cli, command, env

    def _host(self, item: Planned) -> Outcome:
        cli, command, env = self._prepared(item)
        assert cli.protocol is not None
        was_running = running.host_pid(self.home, item.agent)
        mcp, plain = self.mcp_for(item.agent), command
        if item.sandbox is not None and was_running is not None:  # its sandbox runs on
            said = sandboxing.refresh_gateway(self.home, item.agent, item.sandbox, cli, env)
            self.notes.setdefault(item.agent, []).extend([said] if said else [])
        if item.sandbox is not None:
            mcp = through_door(item.agent, mcp)
        if cli.mcp_args is not None and mcp:  # its servers on its command line, trusted
            command, mcp = [*command, *cli.mcp_args(mcp)], []
        if item.sandbox is not None:  # the host's child in bwrap; it reports through its door
            given = [name for name, _ in item.launch.env]  # the agents file's
            command = sandboxing.wrap(item.agent, item.sandbox, cli, item.workspace, command,
                                      env, self.home, new_session=True, given=given)  # fmt: skip
        elif item.gateway:  # its model through swarm's gateway, its key kept outside
            net = sandboxing.gateway_network(self.home, item.agent, cli, env)
            command = sandboxing.gateway_command(command, net, cli)
        try:
            hello = asyncio.run(
                launch.start(
                    self.home,
                    item.agent,
                    command,
                    item.workspace,
                    env,
                    mcp,
                    protocol=cli.protocol,
                    nice=item.launch.nice,
                    cumulative_usage=cli.cumulative_usage,
                )
            )
        except launch.HostStartError as exc:
            raise InvalidState(str(exc)) from None
        log.info("protocol host of %s: pid %s, %s", item.agent, hello.pid, command)
        values: dict[str, list[int] | str] = {
            **item.values, "app": "terminal", "delivery": "protocol",
        }  # fmt: skip
        if cli.protocol_usage == "sessions":  # where its turns' usage is read ("": unknown)
            folder = sandboxing.state_folder(
                self.home, item.agent, item.sandbox, sessions_folder(cli, plain, env), env
            )  # a sandboxed agent's: its own copy
            values.update(cli_dir_value(item, folder))
        host = f"host pid {hello.pid}"
        if hello.exit_code is not None:  # kept: swarm has not read all it holds
            host += (
                f"; its agent exited ({hello.exit_code}) and swarm has not read all it said: "
                "start swarm (swarm run or swarm node), then up again"
            )
        kept = was_running is not None and hello.pid == was_running  # (not one whose agent exited)
        return Outcome(item.agent, "kept" if kept else "started", session=host, values=values)


def through_door(agent: str, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The MCP servers a sandboxed agent's session names: its door's ``swarm mcp`` (by its
    path inside, ``DOOR_SWARM``), which its CLI starts in the sandbox and which serves it as
    that agent outside; a program of the outside (swarm's Python: not in the sandbox) left
    out, said in the log."""
    inside = [s for s in servers if s.get("command") == DOOR_SWARM]
    for left in (s for s in servers if s not in inside):
        log.warning("%s: MCP server %s left out: not its door's", agent, left.get("name"))
    return inside


def _require_adapter(agent: str, cli: AgentCli, command: list[str], env: Mapping[str, str]) -> None:
    """The program that speaks ``cli``'s protocol for it (Codex's ``codex-acp``) installed,
    or one line naming its package and how to install it."""
    if cli.protocol_adapter is None:
        return
    program = next((w for w in command if Path(w).name == cli.protocol_adapter), None)
    if program is not None and shutil.which(program, path=env.get("PATH")):
        return
    package = cli.adapter_package or cli.protocol_adapter
    raise InvalidState(
        f"{agent}: {cli.title} speaks ACP through {cli.protocol_adapter}, which is not "
        f"installed: npm install -g {package} (or run the agent in tmux: --headless)"
    )


def stop_hosts(home: Path, agent_ids: Sequence[str]) -> list[str]:
    """End the protocol hosts (and their agents) of ``agent_ids``; one line each ended."""
    return [
        f"{agent}: protocol host ended"
        for agent in agent_ids
        if running.host_pid(home, agent) is not None and asyncio.run(launch.stop(home, agent))
    ]
