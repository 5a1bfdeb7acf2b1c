"""The agents as the front ends list them (``service.roster``): each agent's row (its decided
state and signals, alerts, pause, the tasks it holds, its record), its pause, and the record
of a person's stop of its running turn (``swarm agents stop``)."""

from __future__ import annotations

from typing import Any

from core import sandbox
from core.accounts import breaker
from core.accounts.status import account_fields
from core.agent_state import AgentState, Observation, Signal
from core.agents import Freshness, open_kinds
from core.agents import judge as agent_judge
from core.agents import queries as agent_queries
from core.agents import signals as agent_signals
from core.clis import by_name
from core.context import Ctx
from core.event_kinds import EventKind
from core.models import Agent, task_ref
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.store.tables import insert_event
from core.tasks import queries as task_queries


class RosterBook:
    """Each configured agent's row, and pausing one (``service.roster``)."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        self.fresh = Freshness()  # the watch's, set by the composition root (a stop judges)

    async def rows(self) -> list[dict[str, Any]]:
        """Each agent with its live state: paused, load, current tasks, last report."""
        ctx = self.access.ctx("swarm")
        return await self.access.read(agent_rows, list(ctx.agents.values()), ctx)

    async def set_paused(self, agent: str, paused: bool, actor: str) -> bool:
        """Pause or resume an agent; False when nothing changed."""
        return await self.access.write(actor, set_paused, agent, paused)

    async def stopped(self, agent: str, how: str, actor: str, idle: bool = False) -> None:
        """Record that ``actor`` stopped ``agent``'s running turn ``how`` (its task kept);
        ``idle``: its pane was read idle after the stop, the text signal's observation now,
        and the agent judged at once (not at the watch's next look)."""
        await self.access.write(actor, _stopped, agent, how, self.fresh if idle else None)

    async def idle_after_withdrawal(self, agent: str) -> None:
        """``agent``'s pane read idle after a withdrawal stopped its turn: the text signal's
        observation now, and the agent judged at once (not at the watch's next look)."""
        await self.access.write("swarm", _idle_seen, agent, WITHDRAWN_IDLE, self.fresh)


STOPPED_IDLE = "pane: idle after its turn was stopped"
WITHDRAWN_IDLE = "pane: idle after its turn was stopped (its task withdrawn)"


def set_paused(conn: Conn, ctx: Ctx, agent_id: str, paused: bool) -> bool:
    """Pause or resume one agent; return False when it already was so."""
    agent = ctx.agent(agent_id).id
    if agent_queries.is_paused(conn, agent) == paused:
        return False
    agent_queries.set_paused(conn, agent, paused)
    word = "paused" if paused else "resumed"
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_PAUSED if paused else EventKind.AGENT_RESUMED,
        f"{agent} {word} by {ctx.actor}",
        agent=agent,
        actor=ctx.actor,
    )
    return True


def _stopped(conn: Conn, ctx: Ctx, agent: str, how: str, idle: Freshness | None) -> None:
    insert_event(
        conn, ctx.now, EventKind.AGENT_STOPPED, f"{agent}'s turn stopped by {ctx.actor} ({how})",
        agent=agent, actor=ctx.actor, data={"how": how},
    )  # fmt: skip
    if idle is not None:
        _idle_seen(conn, ctx, agent, STOPPED_IDLE, idle)


def _idle_seen(conn: Conn, ctx: Ctx, agent: str, words: str, fresh: Freshness) -> None:
    """The pane read idle after a stop: the text signal's observation, judged at once."""
    agent_signals.record(conn, Observation(agent, Signal.TEXT, AgentState.IDLE, ctx.now, words))
    agent_judge.judge_and_apply(conn, ctx, agent, fresh)


def agent_rows(conn: Conn, agents: list[Agent], ctx: Ctx | None = None) -> list[dict[str, Any]]:
    """The rows ``swarm agents --json`` prints, in the agents file's order (``ctx``: with
    each agent's account, its breaker and its spend today)."""
    state = agent_queries.state_rows_by_id(conn)
    alerts = open_kinds(conn)
    # a row that cannot be read is left out (the agent's ``unjudged`` alert says why)
    seen = agent_signals.observations(conn, [a.id for a in agents], unreadable={})
    holding = _held_tasks(conn)
    breakers = breaker.not_closed(conn) if ctx is not None else {}
    rows = []
    for agent in agents:
        st = state.get(agent.id)
        decided = agent_signals.get_state(conn, agent.id)
        rows.append(
            {
                "id": agent.id,
                "role": agent.role,
                "capabilities": list(agent.capabilities),
                "state": decided.state.value,
                "since": decided.since,
                "signal": decided.signal.value if decided.signal else None,
                "evidence": decided.evidence,
                "signals": {
                    obs.signal.value: {
                        "state": obs.state.value,
                        "seen_at": obs.at,
                        "evidence": obs.evidence,
                        "until": obs.until,
                    }
                    for obs in seen.get(agent.id, {}).values()
                },
                "alerts": sorted(alerts.get(agent.id, ())),
                "paused": bool(st.paused) if st else False,
                "tasks": holding.get(agent.id, []),
                "capacity": agent.capacity,
                "score": round(st.score, 3) if st else 1.0,
                "done": st.done_count if st else 0,
                "failed": st.fail_count if st else 0,
                "last_report_at": st.last_report_at if st else None,
                "input": list(agent.input) if agent.input else None,
                "delivery": agent.delivery,
                "node": agent.node,
                "tmux": agent.tmux,
                "cli": agent.cli,
                "sandbox": sandbox.summary(
                    agent.sandbox, agent.sandbox_refused, _has_gateway(agent.cli)
                ),
                **(account_fields(ctx, agent, breakers) if ctx is not None else {}),
            }
        )
    return rows


def _held_tasks(conn: Conn) -> dict[str, list[str]]:
    """The tasks each agent holds now (assigned or in progress), as ``T-n``, oldest first."""
    holding: dict[str, list[str]] = {}
    for task_id, agent, *_ in task_queries.active_tasks(conn):
        holding.setdefault(agent, []).append(task_ref(task_id))
    return holding


def _has_gateway(cli: str | None) -> bool:
    """Whether ``cli``'s model can go through swarm's gateway (a sandbox's default network)."""
    known = by_name(cli)
    return known is not None and known.model_wire is not None
