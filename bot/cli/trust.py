"""Who may decide what from a terminal: a person's decisions are refused to an agent's.

A command that decides for a person says so where it is defined:
``set_defaults(person_only="what it decides")`` (``plan`` gives a function of its
arguments: only ``approve|discard P-3`` decide). ``bot.cli.main`` calls :func:`check`
before any command that uses the database runs. A terminal is an agent's when
(:func:`agent_here`):

- the actor (``--as``, else ``SWARM_AGENT``) is a configured agent;
- ``SWARM_AGENT`` names one (what ``swarm desktop`` and the MCP server give an agent);
- ``SWARM_MCP_TOKEN`` is set (an agent's MCP token);
- ``TMUX_PANE`` is a pane of an agent's tmux window (the agents file's ``tmux``);
- the working folder is inside an agent's workspace.

And in a terminal whose ``SWARM_AGENT`` names an agent, ``--as`` may name only that agent:
an agent never acts as a person or as another agent. A refusal is one line (exit 2) and
is recorded: an ``access.refused`` event and an audit row.

This stops an agent that runs ``swarm approve`` where it works, told to by what it read. It
cannot stop a program of the same OS user that clears all of these: that program can open
the database itself. Agents that must never reach a person's decisions run as another OS
user (docs/reliability.md, the trust model).
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import PersonOnly
from core.formats.text import one_line, shorten
from core.settings import AGENT, MCP_TOKEN
from core.workspaces import os_user

if TYPE_CHECKING:
    from core.models import Agent
    from core.service.swarm import SwarmService

Marked = str | Callable[[argparse.Namespace], str | None]
COMMAND_SHOWN = 120  # characters of the command line kept in the event and the audit row


def person_only(args: argparse.Namespace) -> str | None:
    """What the command decides for a person (its ``person_only`` mark), else None."""
    marked: Marked | None = getattr(args, "person_only", None)
    return marked(args) if callable(marked) else marked


async def check(service: SwarmService, args: argparse.Namespace) -> None:
    """Refuse (PersonOnly, recorded) a person's decision asked from an agent's terminal, and
    an ``--as`` naming someone else in a terminal whose ``SWARM_AGENT`` names an agent. In an
    agent's pane (:func:`pane_here`) the actor is that agent, whatever the environment says
    (``swarm send`` from it is the agent's message, quoted): a ``SWARM_AGENT`` or ``--as``
    naming anyone else is refused."""
    env = args.configuration.env
    agents = service.agents
    named = _agent_named(agents, AGENT.read(env) or "")
    pane = await pane_here(agents, env, service.settings.home)
    if pane is not None:
        agent, where = pane
        if named is not None and named != agent:
            await _refuse(service, args, agent, f"{where}, not {named}'s (SWARM_AGENT)")
        if args.actor_flag and _agent_named(agents, args.actor) != agent:
            await _refuse(service, args, agent, f"{where}: --as may name only {agent} here")
        args.actor = agent
    elif named is not None and args.actor_flag and _agent_named(agents, args.actor) != named:
        why = f"this terminal is {named}'s (SWARM_AGENT): --as may name only {named} here"
        await _refuse(service, args, named, why)
    what = person_only(args)
    if what is None:
        return
    found = pane or agent_here(agents, env, args.actor, service.settings.home)
    if found is not None:
        why = f"{what} is a person's to decide, and {found[1]}"
        await _refuse(service, args, found[0], why, " (a person runs it from their own terminal)")


def agent_here(
    agents: Mapping[str, Agent], env: Mapping[str, str], actor: str, home: Path
) -> tuple[str | None, str] | None:
    """(the agent, why) when this process acts for an agent or runs in an agent's place
    (terminal, pane, folder; the agent is None for an MCP token, not looked up); None when
    it is a person's."""
    for name, why in (
        (AGENT.read(env) or "", "this terminal is {}'s (SWARM_AGENT)"),
        (actor, "it would be done as {}, an agent (--as)"),
    ):
        agent = _agent_named(agents, name)
        if agent is not None:
            return agent, why.format(agent)
    if MCP_TOKEN.read(env):
        return None, "this terminal holds an agent's MCP token (SWARM_MCP_TOKEN)"
    pane = _pane_agent(agents, env)
    if pane is not None:
        return pane, f"this terminal is {pane}'s tmux pane ({env.get('TMUX_PANE')})"
    return _folder_agent(agents, home)


async def pane_here(
    agents: Mapping[str, Agent], env: Mapping[str, str], home: Path | None = None
) -> tuple[str, str] | None:
    """(the agent, why) when this process runs in an agent's terminal: ``$TMUX_PANE`` is a
    pane of its tmux window, or one of this process's parents is its pane's process
    (``core.agents.identity``: an environment cleared of ``TMUX`` does not hide it)."""
    import asyncio

    from core.agents import Resolver

    pane = _pane_agent(agents, env)
    if pane is not None:
        return pane, f"this terminal is {pane}'s tmux pane ({env.get('TMUX_PANE')})"
    placed = await asyncio.to_thread(Resolver(env, home).place, os.getpid(), agents)
    if placed.agent is None:
        return None
    return placed.agent, f"this terminal is {placed.agent}'s ({placed.how})"


def _agent_named(agents: Mapping[str, Agent], name: str) -> str | None:
    lowered = {a.lower(): a for a in agents}
    return lowered.get(name.strip().lower()) if name.strip() else None


def _pane_agent(agents: Mapping[str, Agent], env: Mapping[str, str]) -> str | None:
    """The agent whose tmux window (the agents file's ``tmux``) holds the pane of
    ``$TMUX_PANE`` on the server of ``$TMUX``: one question per tmux server of the agents."""
    pane, server = env.get("TMUX_PANE", ""), env.get("TMUX", "")
    if not pane or not server:
        return None
    from core.tmux import pane_where

    socket = os.path.realpath(server.rsplit(",", 2)[0])
    for asked in {a.tmux_socket for a in agents.values() if a.tmux is not None}:
        where = pane_where(pane, asked, env)
        if where is None or os.path.realpath(where.socket) != socket:
            continue  # no such pane there, or the same pane id on another server
        for agent in agents.values():
            if agent.tmux and agent.tmux_socket == asked and where.in_window_of(agent.tmux):
                return agent.id
    return None


def _folder_agent(agents: Mapping[str, Agent], home: Path) -> tuple[str, str] | None:
    from core.workspaces import agent_at

    try:
        here = Path.cwd()
    except OSError:  # the folder was deleted: nobody's
        return None
    agent = agent_at(home, agents, here)
    if agent is None:
        return None
    return agent, f"this terminal's folder is in {agent}'s workspace ({one_line(str(here))})"


async def _refuse(
    service: SwarmService, args: argparse.Namespace, agent: str | None, why: str, hint: str = ""
) -> None:
    """Record the refusal (event and audit row), then raise PersonOnly saying why."""
    command = shorten(one_line(shlex.join(["swarm", *getattr(args, "argv", [])])), COMMAND_SHOWN)
    await service.history.refused(args.actor, agent, command, why, os_user())
    raise PersonOnly(f"{command}: refused: {why}; nothing was done{hint}")
