"""Onboarding: the role template an agent reads before its first task.

Templates are ``$SWARM_HOME/roles/<role>.md`` when present, else the bundled
``core/bundled/roles/<role>.md`` (``config/roles`` links to it), else the bundled
``default.md``; ``${agent}``, ``${role}``, ``${workspace}``, ``${branch}``, ``${place}`` (the
folder and its branch as one phrase), ``${captain}``, ``${swarm}`` (how the agent's terminal
calls swarm: this installation's ``swarm`` by absolute path, ``SWARM_HOME=...`` before it
for a custom home, as in the task prompts) and ``${ask}``
(how to reach the captain: ``swarm send`` to it, or ``swarm ask`` with none) are filled in.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from core.agents import queries as agent_queries
from core.context import Ctx
from core.delivery import _messages as messages
from core.delivery._receipts import TaskOnFailedPrompt, record_receipt
from core.errors import ConfigError
from core.event_kinds import EventKind
from core.models import Agent, Delivery, DeliveryState, Receipt, Target, TargetKind
from core.sandbox import swarm_for
from core.store.conn import Conn
from core.store.tables import insert_event
from core.workspaces import find

if TYPE_CHECKING:
    from core.store.access import StoreAccess
    from core.workspaces import Located

NO_WORKSPACE = "your current folder (no swarm workspace)"
NO_BRANCH = "your current branch"
NO_PLACE = "your current folder, on your current branch (no swarm workspace)"
OLD_PLACE = "${workspace} on branch ${branch}"  # older templates' phrase, read as ${place}
OLD_ASK = '`${swarm} send ${captain} "question"` to reach the captain'  # read as ${ask}'s line
NO_CAPTAIN = "the person running swarm"


RESET_TEXT = (
    "[swarm] reset: clear your conversation now and forget earlier tasks; the next "
    "message from swarm says who you are and what to do."
)


def template(home: Path, role: str) -> str:
    """The role's template text: the user's override, the bundled one, or the default."""
    own = home / "roles" / f"{role}.md"
    if own.is_file():
        try:
            return own.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"role template {own} is not UTF-8 text (byte {exc.start})") from None

    bundled = files("core") / "bundled" / "roles"
    named = bundled / f"{role}.md"
    chosen = named if named.is_file() else bundled / "default.md"
    return chosen.read_text(encoding="utf-8")


def captain_of(agents: dict[str, Agent]) -> str:
    """The captain's id (``captain = true``), or who runs swarm when no agent is captain."""
    return next((a.id for a in agents.values() if a.captain), NO_CAPTAIN)


def ask_command(captain: str, swarm: str) -> str:
    """How an agent reaches the captain: a message to it, or, with no captain, a question on
    the task for a person (``swarm send`` names an agent, not a person)."""
    if captain == NO_CAPTAIN:
        return f'{swarm} ask "question"'
    return f'{swarm} send {captain} "question"'


def text_for(service: StoreAccess, agent: Agent) -> str:
    """The filled-in template for ``agent`` (blocking: reads files and the workspace)."""

    return filled(service, agent, find(service.settings.home, service.agents, agent.id))


def filled(service: StoreAccess, agent: Agent, place: Located | None) -> str:
    """The template for ``agent`` working in ``place`` (read already; blocking: reads the
    role's template)."""
    captain = captain_of(service.agents)
    swarm = swarm_for(agent, service.settings.agent_swarm)
    values = {
        "agent": agent.id,
        "role": agent.role,
        "captain": captain,
        "ask": ask_command(captain, swarm),
        "workspace": str(place.path) if place else NO_WORKSPACE,
        "branch": (place.branch if place and place.branch else NO_BRANCH),
        "place": _place(place.path, place.branch) if place else NO_PLACE,
        "swarm": swarm,
    }
    text = template(service.settings.home, agent.role).replace(OLD_PLACE, "${place}")
    text = text.replace(OLD_ASK, "`${ask}` to reach ${captain}")
    return Template(text).safe_substitute(values)


def _place(path: Path, branch: str | None) -> str:
    """``/work/Agent-1 on branch swarm/Agent-1`` (the folder alone when it has no branch)."""
    return f"{path} on branch {branch}" if branch else str(path)


async def onboard(service: StoreAccess, agent_id: str, actor: str) -> int:
    """Queue the agent's onboarding message and mark it onboarded; the message id."""
    agent = service.ctx(actor).agent(agent_id)
    text = await asyncio.to_thread(text_for, service, agent)
    return await service.write(actor, queue_onboarding, agent.id, text)


def queue_onboarding(conn: Conn, ctx: Ctx, agent: str, text: str) -> int:
    """Store the onboarding message for ``agent`` and remember that it was onboarded."""
    message_id = messages.queue(conn, ctx, [agent], text, target=Target(TargetKind.agent, agent))
    agent_queries.set_onboarded(conn, agent, ctx.now)
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_ONBOARDED,
        f"{agent} onboarded by {ctx.actor}",
        agent=agent,
        actor=ctx.actor,
        data={"message": message_id},
    )
    return message_id


def record_receipt_onboarded(
    conn: Conn,
    ctx: Ctx,
    delivery: Delivery,
    receipt: Receipt,
    tasks: TaskOnFailedPrompt,
    *,
    delivering: bool = False,
) -> DeliveryState:
    """Store the receipt of a task prompt that carried the onboarding; once delivered, the
    agent is onboarded (same transaction)."""
    state = record_receipt(conn, ctx, delivery, receipt, tasks, delivering=delivering)
    if state is DeliveryState.delivered:
        agent_queries.set_onboarded(conn, delivery.agent, ctx.now)
        insert_event(
            conn,
            ctx.now,
            EventKind.AGENT_ONBOARDED,
            f"{delivery.agent} onboarded with its task prompt",
            agent=delivery.agent,
            actor=ctx.actor,
        )
    return state


def queue_reset(conn: Conn, ctx: Ctx, agent: str, text: str) -> int:
    """Queue the agent's reset action, then its onboarding; the reset's message id."""
    message_id = messages.queue(
        conn, ctx, [agent], RESET_TEXT, target=Target(TargetKind.reset, agent)
    )
    insert_event(
        conn,
        ctx.now,
        EventKind.AGENT_RESET,
        f"{agent} reset by {ctx.actor}",
        agent=agent,
        actor=ctx.actor,
        data={"message": message_id},
    )
    queue_onboarding(conn, ctx, agent, text)
    return message_id


async def reset(service: StoreAccess, agent_id: str, actor: str) -> int:
    """Queue the agent's reset action followed by its onboarding message."""
    agent = service.ctx(actor).agent(agent_id)
    text = await asyncio.to_thread(text_for, service, agent)
    return await service.write(actor, queue_reset, agent.id, text)
