"""Messages held behind a turn that does not end.

A protocol agent's messages wait while its turn runs: nothing is ever put into a running
turn. A turn that never ends (a hung CLI, a stream that never answers) would hold them
without end, the agent ``unknown`` and nothing for a person to act on. Once the oldest has
waited ``stall_after_s`` (``SWARM_STALL``), a ``held-behind-turn`` alert, a "Needs you"
item, says how many wait since when and how to let them through (``swarm agents stop``: the
turn ends, they go next); it clears when none waits any longer.
"""

from __future__ import annotations

from core.agent_state import AgentState
from core.agents import HELD_BEHIND_TURN, OpenAlerts, clock_time
from core.agents import signals as agent_signals
from core.context import Ctx
from core.delivery import message_queries
from core.store.conn import Conn
from core.watch.settings import WatchSettings

IN_A_TURN = (AgentState.WORKING, AgentState.UNKNOWN, AgentState.STALLED)  # (not offline)


def check(conn: Conn, ctx: Ctx, settings: WatchSettings, alerts: OpenAlerts) -> list[str]:
    """Open the alert of each protocol agent in a turn whose oldest queued message has
    waited ``stall_after_s``; clear the others'. The agents whose alert opened now."""
    hosted = [a for a in ctx.agents.values() if a.delivery == "protocol"]
    if not hosted:
        return []
    waiting = message_queries.queued_since_each(conn)
    states = agent_signals.get_states(conn) if waiting else {}
    opened = []
    for agent in hosted:
        found, state = waiting.get(agent.id), states.get(agent.id)
        in_turn = state is not None and state.state in IN_A_TURN
        if found is None or not in_turn or ctx.now - found[0] < settings.stall_after_s:
            alerts.clear(conn, ctx, agent.id, HELD_BEHIND_TURN,
                         f"{agent.id}'s messages no longer wait behind its turn")  # fmt: skip
            continue
        oldest, count = found
        text = (
            f"{agent.id}'s turn has not ended: {count} message(s) wait behind it, the oldest "
            f"since {clock_time(oldest)}: stop its turn (swarm agents stop {agent.id}) and "
            "they go next, or wait for it"
        )
        if alerts.open(conn, ctx, agent.id, HELD_BEHIND_TURN, text):
            opened.append(agent.id)
    return opened
