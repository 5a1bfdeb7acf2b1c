"""A person stops an agent's running turn, its task left as it is (``swarm agents stop``): on
the protocol route its host's cancel (ACP ``session/cancel``, Claude Code's ``interrupt``);
in a tmux pane its CLI's own interrupt key (``AgentCli.interrupt``: Escape, Aider's Ctrl+C);
on another route (a GUI window, inbox files) it cannot be done. Done from the caller's own
process, with or without ``swarm run``: the host's socket and the tmux server are local."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from automation.tmux_delivery import TmuxDeliverer
from core.clis import by_name
from core.delivery.killswitch import KillSwitch
from core.hosts import client, wire
from core.models import Agent


@dataclass(frozen=True)
class Stop:
    """What a stop did: ``done`` (a turn was stopped), ``how`` (the route's means), in words
    what it came to (``said``); ``failed``: it could not be done (not: nothing ran)."""

    done: bool
    how: str
    said: str
    failed: bool = False


async def stop_turn(home: Path, agent: Agent, kill_switch: KillSwitch) -> Stop:
    """Stop ``agent``'s running turn by its route."""
    if agent.delivery == "protocol":
        return await _cancel(home, agent)
    if agent.delivery in ("gui", "tmux") and agent.tmux:
        return await _interrupt(home, agent, kill_switch)
    where = "inbox files" if agent.delivery == "inbox" else "a window with no tmux pane"
    return _cannot("", f"its route ({where}) has no way to stop a turn: stop it where it runs")


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
