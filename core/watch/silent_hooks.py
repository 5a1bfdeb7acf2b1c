"""Hooks that do not speak: an agent whose workspace has swarm's hooks
(``hooks = true``, written by ``swarm desktop up``) must have its hook say something after
each prompt that reaches it (Claude Code's and Codex's ``UserPromptSubmit``, then ``Stop``).
When ``SWARM_HOOKS_SILENT_AFTER`` (30 s) pass after a delivery with no hook event since it
was queued, a ``hooks_silent`` alert opens ("Codex-1's hooks have not spoken since 10:02:
..."), shown in "Needs you" and by ``swarm agents explain``; the hook's next word clears it.
So a CLI that never runs its hooks (Codex's "Hooks need review" left unanswered) is noticed
after its first prompt, not hours later.
"""

from __future__ import annotations

from core.agent_state import Signal
from core.agents import HOOKS_SILENT, clear_alert, clock_time, open_alert
from core.agents import signals as agent_signals
from core.context import Ctx
from core.delivery import message_queries
from core.models import Agent
from core.store.conn import Conn

TYPED = ("tmux", "gui")  # the routes that type a prompt into the CLI (its hooks then run)


def check(conn: Conn, ctx: Ctx, proof_s: float) -> list[str]:
    """Open or clear each hooked agent's ``hooks_silent`` alert; the agents opened now.
    ``proof_s``: seconds from a prompt's arrival to the hook's word (it runs at the prompt's
    submit) before the hooks count as silent."""
    opened = []
    for agent in ctx.agents.values():
        if not agent.hooks or agent.delivery not in TYPED:
            continue
        silent = _silence(conn, ctx, agent, proof_s)
        if silent is None:
            clear_alert(conn, ctx, agent.id, HOOKS_SILENT, f"{agent.id}'s hooks speak again")
        elif open_alert(conn, ctx, agent.id, HOOKS_SILENT, silent):
            opened.append(agent.id)
    return opened


def _silence(conn: Conn, ctx: Ctx, agent: Agent, proof_s: float) -> str | None:
    """Why the agent's hooks count as silent, or None while they may still speak."""
    last = message_queries.last_delivered(conn, agent.id)
    if last is None:
        return None
    queued, arrived = last
    seen = agent_signals.observations(conn, [agent.id], unreadable={}).get(agent.id, {})
    hook = seen.get(Signal.HOOK)
    if (hook is not None and hook.at >= queued) or ctx.now - arrived < proof_s:
        return None
    since = f"since {clock_time(hook.at)}" if hook is not None else "at all"
    return (
        f"{agent.id}'s hooks have not spoken {since}: a prompt reached it at "
        f"{clock_time(arrived)} and no hook event came in {proof_s:.0f} s, so its state is "
        'read from its pane alone; does its CLI ask to review them (Codex: "Hooks need '
        f'review")? swarm agents hooks install --agent {agent.id} writes them again'
    )
