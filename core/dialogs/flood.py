"""An agent's flood of permission requests: beyond ``PER_MINUTE`` opened in a minute (of one
agent, by one signal: its protocol host's requests, its hooks'), swarm rejects the rest
without asking a person (never with an option that allows), said once a minute in a
``prompt.flooded`` event. One agent in a loop fills nobody's "Needs you" queue or channel."""

from __future__ import annotations

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs import permissions as prompts
from core.dialogs import prompt_queries as statements
from core.event_kinds import EventKind
from core.store.conn import Conn
from core.store.tables import insert_event

PER_MINUTE = 20  # requests of one agent opened a minute; the rest are rejected, said once
FLOOD = "swarm (more than 20 requests a minute)"  # who rejects them


def recent(conn: Conn, ctx: Ctx, agent: str, signal: Signal) -> int:
    """How many of ``agent``'s requests by ``signal`` were opened in the last minute (counted
    up to ``PER_MINUTE + 1``)."""
    return statements.opened_since(conn, agent, signal.value, ctx.now - 60.0, PER_MINUTE + 1)


def reject_over(conn: Conn, ctx: Ctx, prompt: prompts.Prompt, opened: int) -> bool:
    """When ``opened`` (:func:`recent`, counted before ``prompt`` opened) is at the limit:
    ``prompt`` answered with its rejecting option (never one that allows), else closed; the
    first of a minute's said in one event. True when it was rejected so."""
    if opened < PER_MINUTE:
        return False
    option = prompt.rejecting()
    if option is not None:
        statements.decide(conn, prompt.id, option.key, FLOOD, ctx.now)
    else:
        statements.close(conn, prompt.id, f"not asked: {FLOOD}", ctx.now)
    if opened == PER_MINUTE:
        insert_event(
            conn, ctx.now, EventKind.PROMPT_FLOODED,
            f"{prompt.agent} asked for more than {PER_MINUTE} permissions within a minute: "
            "swarm rejects the rest of that minute's requests without asking (swarm inbox "
            "show R-N names each)",
            task_id=prompt.task_id, agent=prompt.agent, actor=ctx.actor,
            data={"prompt": prompt.id, "per_minute": PER_MINUTE},
        )  # fmt: skip
    return True
