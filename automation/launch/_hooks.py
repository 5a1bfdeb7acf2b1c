"""What goes into an agent's workspace before its CLI starts and reads it: swarm's hooks
(``agents hooks install``), its MCP server (``mcp = true``), the rules that spare its reports
a person's approval, its CLI's first-start offers settled, and its worktrees' commit checks
sent through its door when it is sandboxed. A sandboxed agent's hooks and MCP server are its
door's ``swarm`` (swarm's Python and home are not in its sandbox)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from automation.agents_file_writer import write_agent_values
from automation.launch import sandbox
from automation.launch._first_start import settle
from automation.launch._seam import Planned
from core.agents import workspace_files
from core.clis import by_name
from core.clis.hook_files import Change
from core.clis.mcp_files import NAME, Server
from core.models import Agent
from core.sandbox import DOOR_AT, DOOR_SWARM, swarm_for

FIRST_START = "first start: "  # a line of a first-start offer settled
ALREADY = ": already installed"  # a hooks line saying the file was left as it was
WorkspaceOf = Callable[[str], Path | None]  # agent -> its own workspace, None without one
SAID = {
    "added": "hooks added",
    "already installed": "already installed",
    "removed": "swarm's hooks removed",
    "restored": "restored as it was before install",
    "not installed": "no swarm hooks",
    "kept": "kept your own notify program: not changed",
    "rule added": "report rule added (swarm's report commands run unasked)",
    "rule removed": "swarm's report rule removed",
}
MCP_SAID = {  # what happened to one MCP file, in words
    "added": "MCP server added",
    "already installed": "already installed",
    "removed": "swarm's MCP server removed",
    "restored": "restored as it was before install",
    "not installed": "no swarm MCP server",
    "kept": "kept your own server named swarm: not changed",
}


@dataclass(frozen=True)
class Reach:
    """How an unsandboxed agent's hooks and MCP server reach swarm: this home, the
    ``SWARM_HOME=``/``SWARM_CONFIG=`` pairs they need when not the defaults (never a
    database URL: it may hold a password), how its shell calls swarm, and how long a hook
    waits for a person's decision."""

    home: Path
    pairs: tuple[str, ...] = ()
    agent_swarm: str = "swarm"
    approval_wait_s: float = 0.0


def hook_command(reach: Reach, agent: str) -> str:
    """The shell command a CLI runs as its hook: ``[SWARM_HOME=...] /path/python -I -m
    bot.cli.hook --agent A`` (``swarm hook``, started faster: no command tree), by absolute
    path (an agent's PATH may lack swarm)."""
    words = [*reach.pairs, sys.executable, "-I", "-m", "bot.cli.hook", "--agent", agent]
    return " ".join(shlex.quote(w) for w in words)


def install(
    reach: Reach, agent: str, folder: Path, cli: str | None, sandboxed: bool = False
) -> list[Change]:
    """swarm's hooks for ``agent`` in its workspace ``folder``: the files its CLI reads
    (``cli``'s ``hooks``; none for a CLI that runs no hooks of swarm's), every CLI's when its
    CLI is not known; a ``sandboxed`` agent's run its door's ``swarm hook``."""
    command = sandbox.door_hook_command(agent) if sandboxed else hook_command(reach, agent)
    wait = reach.approval_wait_s
    changes = workspace_files.install_hooks(reach.home, folder, cli, command, wait)
    swarm = DOOR_SWARM if sandboxed else reach.agent_swarm
    return changes + workspace_files.install_report_rules(folder, cli, swarm)


def mcp_server(reach: Reach, agent: str, sandboxed: bool = False) -> Server:
    """``swarm mcp`` as this installation's Python runs it (by absolute path), as ``agent``,
    on this home and agents file; a ``sandboxed`` agent's door's ``swarm mcp``."""
    if sandboxed:
        return Server(f"{DOOR_AT}/swarm", ("mcp",))
    env = dict(pair.split("=", 1) for pair in reach.pairs)
    return Server(sys.executable, ("-I", "-m", "bot.cli", "mcp"), {"SWARM_AGENT": agent, **env})


def wants_mcp(agent: Agent, cli: str | None) -> bool:
    """Whether the agent gets swarm's MCP server: ``mcp = true``, or a CLI whose agents
    report through it by default (Codex CLI: its sandboxed shell may not reach swarm's
    home), its agents-file entry not known yet (the cli only this up names)."""
    known = by_name(cli)
    return agent.mcp or (known is not None and known.reports_by_mcp)


def mcp_for(reach: Reach, agents: Sequence[Agent]) -> Callable[[str], list[dict[str, object]]]:
    """agent -> the MCP servers its protocol session gets: swarm's, for ``mcp = true``
    (passed with the session: no file written, no dialog asking to trust it); a sandboxed
    agent's is its door's ``swarm mcp``, by its path inside the sandbox."""
    by_id = {agent.id: agent for agent in agents}

    def servers(agent: str) -> list[dict[str, object]]:
        found = by_id[agent]
        if not wants_mcp(found, found.cli):
            return []
        return [{"name": NAME, **mcp_server(reach, agent, found.sandbox is not None).entry()}]

    return servers


def prepare(
    reach: Reach,
    config_path: Path,
    team: Sequence[Agent],
    planned: Sequence[Planned],
    hosted: set[str],
    workspace_of: WorkspaceOf,
    with_hooks: bool = True,
) -> dict[str, list[str]]:
    """Each planned agent's workspace made ready before its CLI starts (the ``hosted``
    ones run under a protocol host, the others in a terminal); the lines said, by agent."""
    by_id = {agent.id: agent for agent in team}
    typed = [item for item in planned if item.agent not in hosted]
    said = install_hooks(reach, config_path, by_id, typed, workspace_of) if with_hooks else {}
    for item in planned:
        lines = sandbox.commit_checks_through_door(reach.home, by_id[item.agent])
        if lines:
            said.setdefault(item.agent, []).extend(lines)
    for item in planned:  # a protocol agent's report rules (a typed one's came with its hooks)
        folder = workspace_of(item.agent)
        if item.agent in hosted and folder is not None:
            swarm = swarm_for(by_id[item.agent], reach.agent_swarm)
            workspace_files.install_report_rules(folder, item.cli, swarm)
    for item in typed:  # an agent without a workspace of its own shares the current folder
        folder = workspace_of(item.agent)
        lines = settle(item.cli, folder) if folder is not None else []
        if lines:
            said.setdefault(item.agent, []).extend(f"{FIRST_START}{x}" for x in lines)
    return said


def install_hooks(
    reach: Reach,
    config_path: Path,
    by_id: dict[str, Agent],
    planned: Sequence[Planned],
    workspace_of: WorkspaceOf,
) -> dict[str, list[str]]:
    """swarm's hooks (and, for an agent with ``mcp = true``, its MCP server) in the workspace
    of each agent about to be opened that has one of its own (an agent without one starts in
    the current folder, which it may share: none there); ``hooks = true`` written for each
    agent that has them now, so a prompt with no hook event after is an alert."""
    done: dict[str, list[str]] = {}
    hooked: list[str] = []
    for item in planned:
        folder = workspace_of(item.agent)
        if folder is None:
            continue
        fenced = by_id[item.agent].sandbox is not None
        changes = install(reach, item.agent, folder, item.cli, fenced)
        lines = [f"{c.path}: {SAID[c.what]}" for c in changes]
        reads_mcp = bool(workspace_files.mcp_files(item.cli))
        if wants_mcp(by_id[item.agent], item.cli) and reads_mcp:
            serve = mcp_server(reach, item.agent, fenced)
            mcp = workspace_files.install_mcp(reach.home, folder, item.cli, serve)
            lines += [f"{c.path}: {MCP_SAID[c.what]}" for c in mcp]
        done[item.agent] = lines
        if any(c.what in ("added", "already installed") for c in changes):
            hooked.append(item.agent)
    if hooked:
        write_agent_values(config_path, {agent: {"hooks": True} for agent in hooked})
    return done


def shown(line: str) -> str:
    """A hooks line as printed (a first-start setting's says so itself)."""
    return line if line.startswith(FIRST_START) else f"hooks: {line}"


def already_installed(hooks: dict[str, list[str]]) -> str:
    """One line for every file that had swarm's hooks (or MCP server) already, not one each."""
    agents = [agent for agent, lines in hooks.items() if any(x.endswith(ALREADY) for x in lines)]
    files = sum(line.endswith(ALREADY) for lines in hooks.values() for line in lines)
    if not files:
        return ""
    return f"hooks: already installed ({files} files in the workspaces of {', '.join(agents)})"
