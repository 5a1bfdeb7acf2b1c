"""What one delivery puts in front of an agent: the enveloped text, plus for a task prompt
its workspace, the handoff and (first task, or after a reset) the onboarding; a reset
(a ``reset`` target, or ``reset_between_tasks``) is its own parcel, sent first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.delivery import _claim_queries as claim_queries
from core.delivery import _message_queries as message_queries
from core.delivery import _onboarding as onboarding
from core.delivery._envelope import render
from core.delivery._messages import is_note
from core.delivery._onboarding import RESET_TEXT
from core.errors import SwarmError
from core.formats.text import shorten
from core.models import Agent, Delivery, TargetKind
from core.protocols import Parcel
from core.sandbox import swarm_for
from core.store.conn import Conn
from core.workspaces import handoff as handoff_facts

if TYPE_CHECKING:
    from core.store.access import StoreAccess
    from core.workspaces import Located, WorkspaceBook

ONBOARDING_RULE = "\n\n---\n\n"
_NOT_PROMPTS = (TargetKind.reset, TargetKind.withdraw, TargetKind.note)  # about a task


@dataclass(frozen=True)
class Plan:
    """The parcels of one delivery, in order, and whether they onboard the agent."""

    parcels: tuple[Parcel, ...]
    onboards: bool


@dataclass(frozen=True)
class PromptFacts:
    """What a task prompt needs from the database: the handoff and the onboarding flag."""

    handoff: handoff_facts.Handoff | None
    needs_onboarding: bool


def read_facts(conn: Conn, delivery: Delivery) -> PromptFacts | None:
    """The facts of a task prompt (None for other messages); any transaction."""
    if not _is_prompt(delivery) or delivery.task_id is None:
        return None
    conn.flush_events()  # the flags read events
    flags = claim_queries.prompt_flags(conn, delivery.agent, delivery.task_id)
    return facts_from(conn, delivery, flags.fresh_agent, flags.handed_over)


def facts_from(
    conn: Conn, delivery: Delivery, fresh_agent: bool, handed_over: bool
) -> PromptFacts | None:
    """The facts of a task prompt from the flags of ``claim_queries.FACT_COLUMNS`` (read
    with its claim): the handoff is read only when another agent held the task."""
    if not _is_prompt(delivery) or delivery.task_id is None:
        return None
    found = handoff_facts.facts(conn, delivery.task_id, delivery.agent) if handed_over else None
    return PromptFacts(found, fresh_agent)


async def plan(
    service: StoreAccess,
    workspaces: WorkspaceBook,
    delivery: Delivery,
    agent: Agent,
    facts: PromptFacts | None = None,
) -> Plan:
    """The parcels for ``delivery`` to ``agent`` (``facts``: read with the claim, if so)."""
    if delivery.target.kind is TargetKind.reset:
        return Plan((reset_parcel(delivery, agent),), False)
    place, handoff = None, None
    parcels: list[Parcel] = []
    onboards = False
    withdrawn = delivery.target.kind is TargetKind.withdraw  # no workspace, handoff, reset
    if _is_prompt(delivery) and delivery.task_id is not None:
        place = await workspaces.before_prompt(delivery.task_id, agent.id)
        if facts is None:
            facts = await service.read(read_facts, delivery)
        assert facts is not None
        new = facts.needs_onboarding
        handoff = await workspaces.handoff_text(facts.handoff)
        if agent.reset_between_tasks and not delivery.is_retry:
            parcels.append(reset_parcel(delivery, agent))
        onboards = bool(parcels) or new
    intro = await _intro(service, agent, place) if onboards else ""
    text = render(
        delivery.text,
        sender=delivery.sender,
        agent=agent.id,
        task_id=delivery.task_id,
        priority=delivery.priority,
        is_retry=delivery.is_retry,
        workspace=(str(place.path), place.branch) if place else None,
        handoff=handoff,
        home=None if agent.sandbox else service.settings.custom_home,
        note=is_note(delivery.target),
        withdrawn=withdrawn,
        mcp=agent.mcp,
        from_agent=_agent_sender(service, delivery),
        commands=not _lists_commands(intro, swarm_for(agent, service.settings.agent_swarm)),
        program=swarm_for(agent, service.settings.swarm_program),
    )
    if onboards:
        text = intro.rstrip() + ONBOARDING_RULE + text
    if not withdrawn and not parcels:  # a reset first: a new session, nothing to take back
        text = await _with_notices(service, agent, text)
    parcels.append(
        Parcel(
            delivery.id,
            agent,
            text,
            delivery.sender,
            delivery.task_id,
            delivery.priority,
            delivery.is_retry,
            withdraw=withdrawn,
        )
    )
    return Plan(tuple(parcels), onboards)


async def _with_notices(service: StoreAccess, agent: Agent, text: str) -> str:
    """``text`` under the withdrawal notices the agent was not told yet (its route stopped
    those turns and typed nothing: ``Receipt.stopped``), each as its own WITHDRAWN block.
    Read whatever the agent's route is now: one moved from tmux to a window since its stop
    is still owed the notice (a window's own withdrawals are typed, so none is found)."""
    notices = await service.read(message_queries.carried_notices, agent.id)
    if not notices:
        return text
    blocks = [
        render(n.text, sender=n.sender, agent=agent.id, task_id=n.task_id, withdrawn=True)
        for n in notices
    ]
    return ONBOARDING_RULE.join([*blocks, text])


async def _intro(service: StoreAccess, agent: Agent, place: Located | None) -> str:
    """The onboarding text above an agent's first prompt, with the workspace read for the
    prompt (not read a second time); without one, the workspace is read for it."""
    if place is not None:
        return await asyncio.to_thread(onboarding.filled, service, agent, place)
    return await asyncio.to_thread(onboarding.text_for, service, agent)


def _lists_commands(intro: str, swarm: str) -> bool:
    """Whether the onboarding text already gives the report commands (the bundled templates
    do: ``swarm task done T-N``, ``swarm`` as the agent calls it), so that the prompt under
    it does not repeat them."""
    return f"{swarm} task done " in intro


def _agent_sender(service: StoreAccess, delivery: Delivery) -> str | None:
    """The configured agent that sent a plain message (``swarm send``, ``broadcast``, the
    MCP ``message`` tool): its words are quoted. None for swarm's own messages (prompts,
    notes, withdrawals) and a person's."""
    if delivery.task_id is not None or is_note(delivery.target):
        return None
    lowered = {a.lower(): a for a in service.agents}
    return lowered.get(delivery.sender.strip().lower())


def _is_prompt(delivery: Delivery) -> bool:
    """A task's prompt (not a plain message, a reset, a note about the task or its
    withdrawal)."""
    return delivery.task_id is not None and delivery.target.kind not in _NOT_PROMPTS


def reset_parcel(delivery: Delivery, agent: Agent) -> Parcel:
    """The reset action for ``agent`` (the driver presses its keys; an inbox gets the text)."""
    return Parcel(
        delivery.id,
        agent,
        RESET_TEXT,
        delivery.sender,
        None,
        delivery.priority,
        delivery.is_retry,
        reset=agent.reset,
    )


def why(exc: BaseException) -> str:
    """One line saying why a prompt could not be built (a delivery's failure reason)."""
    if isinstance(exc, SwarmError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = f"{type(exc).__name__}: {exc}"
    return shorten(" ".join(text.split()), 300)
