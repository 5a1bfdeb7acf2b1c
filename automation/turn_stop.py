"""A person stops an agent's running turn, its task left as it is (``swarm agents stop``,
the dashboard's Stop, Discord's ``/agent stop``): on the protocol route its host's cancel
(ACP ``session/cancel``, Claude Code's ``interrupt``); in a tmux pane its CLI's own interrupt
key (``AgentCli.interrupt``: Escape, Aider's Ctrl+C); on another route (a GUI window, inbox
files) it cannot be done. Done from the caller's own process, with or without ``swarm run``:
the host's socket and the tmux server are local, so a node's agent is stopped on its node."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from automation.tmux.delivery import TmuxDeliverer
from core.clis import by_name
from core.delivery.killswitch import KillSwitch
from core.errors import InvalidState
from core.hosts import client, wire
from core.models import Agent

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

PERSONS_CALL = "stopping an agent's turn"


@dataclass(frozen=True)
class Stop:
    """What a stop did: ``done`` (a turn was stopped), ``how`` (the route's means), in words
    what it came to (``said``); ``failed``: it could not be done (not: nothing ran)."""

    done: bool
    how: str
    said: str
    failed: bool = False


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
    stop = await stop_turn(service.settings.home, agent, service.kill_switch)
    if stop.failed:
        where = f" ({agent.id} runs on node {agent.node}: run it there)" if agent.node else ""
        raise InvalidState(f"{agent.id}: {stop.said}{where}")
    if stop.done:
        await service.roster.stopped(agent.id, stop.how, actor)
    return agent, stop


async def stop_turn(home: Path, agent: Agent, kill_switch: KillSwitch) -> Stop:
    """Stop ``agent``'s running turn by its route."""
    if agent.delivery == "protocol":
        return await _cancel(home, agent)
    if can_stop(agent):
        return await _interrupt(home, agent, kill_switch)
    where = "inbox files" if agent.delivery == "inbox" else "a window with no tmux pane"
    return _cannot("", f"its route ({where}) has no way to stop a turn: stop it where it runs")


def can_stop(agent: Agent) -> bool:
    """Whether ``agent``'s route has a way to stop a turn: a protocol host, a tmux pane."""
    return agent.delivery == "protocol" or (agent.delivery in ("gui", "tmux") and bool(agent.tmux))


def _cannot(how: str, said: str) -> Stop:
    return Stop(False, how, said, failed=True)


async def _cancel(home: Path, agent: Agent) -> Stop:
    how = "the host's cancel"
    try:
        answer = await client.request(home, agent.id, wire.CANCEL)
    except client.HostUnreachable as exc:
        return _cannot(how, f"not stopped: {exc}")
    if not answer.get("ok"):
        return _cannot(how, f"not stopped: {answer.get('reason') or answer}")
    if not answer.get("running"):
        return Stop(False, how, "no turn was running (nothing to stop)")
    return Stop(True, how, f"its turn was stopped ({how})")


async def _interrupt(home: Path, agent: Agent, kill_switch: KillSwitch) -> Stop:
    cli = by_name(agent.cli)
    if cli is None:
        return _cannot("", 'its CLI is not known (cli = "..." in the agents file): no key')
    how = f"{cli.interrupt} in its tmux pane"
    tmux = TmuxDeliverer(home, kill_switch)
    try:
        receipt = await tmux.press_keys(agent, [cli.interrupt])
    finally:
        tmux.close()
    if not receipt.ok:
        return _cannot(how, f"not stopped: {receipt.reason}")
    return Stop(True, how, f"{cli.title}'s interrupt key pressed ({how})")
