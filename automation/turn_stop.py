"""A person stops an agent's running turn, its task left as it is (``swarm agents stop``,
the dashboard's Stop, Discord's ``/agent stop``), by the first route that can
(``core.protocols.Route.stop_turn``): on the protocol route its host's cancel (ACP
``session/cancel``, Claude Code's ``interrupt``); in a tmux pane its CLI's own interrupt
keys (``AgentCli.interrupt``: Escape, opencode's Escape twice, Aider's Ctrl+C); on another
route (a GUI window, inbox files) it cannot be done. Done from the caller's own process,
with or without ``swarm run``: the host's socket and the tmux server are local, so a node's
agent is stopped on its node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automation.protocol.route import ProtocolRoute
from automation.routes import build_routes
from automation.tmux.route import TmuxRoute
from core.delivery import KillSwitch
from core.errors import InvalidState
from core.models import Agent
from core.protocols import Stop
from core.settings import Settings

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

PERSONS_CALL = "stopping an agent's turn"


async def stop_and_record(
    service: SwarmService, name: str, actor: str, *, on_coordinator: bool
) -> tuple[Agent, Stop]:
    """Stop the running turn of the agent ``name`` for ``actor`` (a person: PersonOnly for an
    agent) and record it (``agent.stopped``) when one was stopped: the one operation of every
    front end. ``on_coordinator``: the caller runs beside the coordinator (the dashboard,
    Discord), so a node's agent, which runs on another machine, is refused before anything is
    tried; the CLI runs anywhere, so it tries, and its failure names the agent's node.
    InvalidState (one line, nothing recorded) when it could not be done."""
    agent = service.resolve_agent(name)
    service.ctx(actor).require_person(PERSONS_CALL)
    if on_coordinator and agent.node:
        raise InvalidState(
            f"{agent.id} runs on node {agent.node}: stop its turn on that machine "
            f"(swarm agents stop {agent.id})"
        )
    stop = await stop_turn(service.settings, agent, service.kill_switch)
    if stop.failed:
        where = f" ({agent.id} runs on node {agent.node}: run it there)" if agent.node else ""
        raise InvalidState(f"{agent.id}: {stop.said}{where}")
    if stop.done:
        await service.roster.stopped(agent.id, stop.how, actor, stop.idle_seen)
    return agent, stop


async def stop_turn(settings: Settings, agent: Agent, kill_switch: KillSwitch) -> Stop:
    """Stop ``agent``'s running turn through the routes at hand without a display."""
    routes = build_routes(settings, kill_switch)
    try:
        return await routes.stop_turn(agent)
    finally:
        routes.close()


def can_stop(agent: Agent) -> bool:
    """Whether ``agent``'s route has a way to stop a turn: a protocol host, a tmux pane (what
    ``build_routes``'s routes say, without building them)."""
    return ProtocolRoute.can_stop(agent) or TmuxRoute.can_stop(agent)
