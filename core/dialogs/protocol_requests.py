"""A protocol agent's permission request as a prompt (its host journal's ``permission``
entries, read by ``core.agents._protocol_events``): opened once per request with the agent's
own options, closed when the agent answered or withdrew it, or when its turn or its host
ended. The decided option goes back to the host as the request's answer
(``core.coordinator.prompt_keys.PromptKeys``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Protocol

from core.agent_state import Signal
from core.context import Ctx
from core.dialogs import flood
from core.dialogs import permissions as prompts
from core.dialogs import queries as prompt_queries
from core.dialogs.hooks import input_lines
from core.formats.text import one_line
from core.hosts.answers import QUESTION_KIND
from core.hosts.entries import PermissionAsked, PermissionDone
from core.models import PromptOption
from core.store.conn import Conn

# fields of a tool's input that are the agent's bookkeeping, not what it asks to do (codex-acp:
# its call's ids and time, the decisions its options already are, its parse of the command)
BOOKKEEPING = frozenset({"call_id", "turn_id", "started_at_ms", "available_decisions",
                         "parsed_cmd", "proposed_execpolicy_amendment"})  # fmt: skip


class AgentAsks(Protocol):
    """An agent's own questions (a ``QUESTION_KIND`` request) as question items: the
    questions' feature, handed in by the loops' tier (``core.watch.protocol_intake``)."""

    def ask(
        self, conn: Conn, ctx: Ctx, agent: str, request: str, given: object, task_id: int
    ) -> bool:
        """Open the request's question on the task; False: it asks nothing readable."""
        ...

    def withdraw(self, conn: Conn, ctx: Ctx, agent: str, request: str, why: str) -> None:
        """Close the request's question unanswered."""
        ...

    def withdraw_open(self, conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
        """Close every open question of the agent's requests unanswered."""
        ...


class NoAsks:
    """No question items: an agent's questions are prompts like any request."""

    def ask(
        self, conn: Conn, ctx: Ctx, agent: str, request: str, given: object, task_id: int
    ) -> bool:
        return False

    def withdraw(self, conn: Conn, ctx: Ctx, agent: str, request: str, why: str) -> None:
        return None

    def withdraw_open(self, conn: Conn, ctx: Ctx, agent: str, why: str) -> None:
        return None


NO_ASKS = NoAsks()


def open_request(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    asked: PermissionAsked,
    task: Callable[[], int | None],
    asks: AgentAsks = NO_ASKS,
) -> None:
    """Open the prompt of ``agent``'s request ``asked`` (once per request: its id is the
    prompt's ``session``), on the task ``task()`` gives; a request with no option opens
    none. Beyond ``flood.PER_MINUTE`` a minute, swarm rejects it without asking."""
    request = asked.request
    if asked.kind == QUESTION_KIND and _asks(conn, ctx, agent, asked, task(), asks):
        return
    found = prompt_queries.by_session(conn, agent, Signal.PROTOCOL, request)
    options = [PromptOption.of(o.id, o.name, o.kind) for o in asked.options]
    if found is not None or not options:
        return
    recent = flood.recent(conn, ctx, agent, Signal.PROTOCOL)
    prompt = prompts.open_prompt(
        conn, ctx, agent, Signal.PROTOCOL, _request_text(asked), options,
        task_id=task(), session=request, quiet=recent >= flood.PER_MINUTE,
    )  # fmt: skip
    if prompt.session == request:  # (not another's, same words)
        flood.reject_over(conn, ctx, prompt, recent)


def _asks(
    conn: Conn,
    ctx: Ctx,
    agent: str,
    asked: PermissionAsked,
    task_id: int | None,
    asks: AgentAsks,
) -> bool:
    """The agent's own questions (a ``QUESTION_KIND`` request) as a question item on the
    task it holds; False when it holds none or asks nothing readable (then the request is a
    prompt like any other: its text the questions, its one option to skip them)."""
    if task_id is None:
        return False
    return asks.ask(conn, ctx, agent, asked.request, asked.tool_input, task_id)


def _request_text(asked: PermissionAsked) -> str:
    """What the agent asks to do: its title, the tool's kind, every field of its input but
    the agent's own bookkeeping."""
    title = one_line(asked.title or "a tool")
    lines = [f"Allow {title}?"]
    given = asked.tool_input
    if asked.kind:
        lines.append(f"kind: {asked.kind}")
    if isinstance(given, Mapping) and given:
        lines += input_lines({k: v for k, v in given.items() if k not in BOOKKEEPING})
    elif given:
        lines.append(json.dumps(given, ensure_ascii=False))
    return "\n".join(lines)


def close_request(
    conn: Conn, ctx: Ctx, agent: str, done: PermissionDone, asks: AgentAsks = NO_ASKS
) -> None:
    """Close the open prompt of the request ``done`` settles: answered at the agent (its
    ``option``) or withdrawn."""
    found = prompt_queries.by_session(conn, agent, Signal.PROTOCOL, done.request)
    option = done.option
    if option is None:
        asks.withdraw(conn, ctx, agent, done.request, "the agent withdrew the request")
    if found is not None and found.open:
        why = (
            "the agent withdrew the request"
            if option is None
            else f"answered {option!r} at the agent"
        )
        prompts.close(conn, ctx, found.id, why)


def close_open(conn: Conn, ctx: Ctx, agent: str, why: str, asks: AgentAsks = NO_ASKS) -> None:
    """Close every open protocol prompt of ``agent`` (its turn or its host ended), and
    every question its requests asked."""
    asks.withdraw_open(conn, ctx, agent, why)
    for prompt in prompts.open_prompts(conn, agent):
        if prompt.source is Signal.PROTOCOL:
            prompts.close(conn, ctx, prompt.id, why)
