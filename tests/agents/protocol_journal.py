"""A protocol agent's host journal as recorded entries, and what takes them in
(``protocol_events.record``), for the transcript's tests (core, dashboard, Discord card)."""

from __future__ import annotations

from typing import Any

from core.agents import _protocol_events as protocol_events
from core.agents._judge import Freshness
from core.delivery._message_queries import task_of_delivery
from core.hosts.entries import Entry, read
from core.service.swarm import SwarmService
from tests.helpers import query
from tests.watch.conftest import assign

AGENT = "Agent-1"
HOST = 4242


def journal(delivery: int) -> list[dict[str, Any]]:
    """One turn as Gemini CLI's ACP host journals it (``automation.protocol.host``: the shapes of
    ``acp_driver._words``), numbered from 1."""
    entries: list[dict[str, Any]] = [
        {"type": "session", "session": "s-1", "loaded": False},
        {"type": "turn", "delivery": delivery, "chars": 24, "text": "Create x then say done"},
        {"type": "update", "kind": "agent_thought_chunk"},
        {"type": "update", "kind": "agent_message_chunk", "text": "I will "},
        {"type": "update", "kind": "agent_message_chunk", "text": "create x."},
        {"type": "update", "kind": "plan", "plan": ["create x", "say done"]},
        {"type": "update", "kind": "tool_call", "title": "touch x", "status": "pending",
         "tool_call_id": "call-1", "tool_kind": "execute"},
        {"type": "permission", "request": "s-1#1", "delivery": delivery, "title": "touch x",
         "kind": "execute", "tool": {"rawInput": {"command": "touch x"}},
         "options": [{"id": "allow", "name": "Allow", "kind": "allow_once"},
                     {"id": "reject", "name": "Reject", "kind": "reject_once"}]},
        {"type": "permission_done", "request": "s-1#1", "option": "allow"},
        {"type": "update", "kind": "tool_call_update", "tool_call_id": "call-1",
         "status": "in_progress"},
        {"type": "update", "kind": "tool_call_update", "tool_call_id": "call-1",
         "status": "completed"},
        {"type": "update", "kind": "agent_message_chunk", "text": "Done"},
        {"type": "update", "kind": "agent_message_chunk", "text": ".\x1b[2J"},
        {"type": "update", "kind": "usage_update", "usage": {"used": 10}},
        {"type": "turn_end", "delivery": delivery, "stop_reason": "end_turn",
         "usage": {"input": 10, "output": 4}, "cost_usd": None},
    ]  # fmt: skip
    return numbered(entries)


def numbered(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries as the host numbers them (``seq`` from 1, ``at``)."""
    return [{"seq": n, "at": 1000.0 + n, **e} for n, e in enumerate(entries, 1)]


def arrived(entries: list[dict[str, Any]]) -> list[Entry]:
    """Entries as the host numbers them, read as the watch holds them once they came."""
    return [read(e) for e in numbered(entries)]


async def record(service: SwarmService, entries: list[dict[str, Any]]) -> int:
    return await service.store.write(
        AGENT, protocol_events.record, AGENT, HOST, [read(e) for e in entries], Freshness(),
        task_of_delivery,
    )  # fmt: skip


async def started(service: SwarmService) -> tuple[int, int]:
    """A task given to the agent (its prompt's delivery) and started."""
    task = await assign(service, AGENT)
    await service.tasks.start(task, AGENT)
    ((delivery,),) = query(
        service.settings,
        "SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.task_id = $1",
        (task,),
    )
    return task, int(delivery)
