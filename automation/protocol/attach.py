"""``swarm attach AGENT`` for a protocol agent: its live transcript from its host's journal
(the prompts it took, its answers, tool calls, plans, permission requests and each turn's
end), and each line typed sent to it as this person's message, through swarm (queued: held
while a task's turn runs, delivered at its end, as every message to a protocol agent)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from core.errors import InvalidState
from core.formats.text import escape_controls, one_line, shorten
from core.hosts import client, wire

BACKLOG = 200  # journal entries shown before the live ones


def line_of(entry: dict[str, Any]) -> str | None:
    """One journal entry as the transcript shows it (None: not shown); every control
    character escaped, so nothing the agent writes moves this terminal's cursor."""
    kind = entry.get("type")
    if kind == wire.UPDATE:
        return _update(entry)
    text = {
        wire.TURN: lambda e: f"\n> {_one(e.get('text'), 300)}",
        wire.TURN_END: lambda e: f"\n-- turn ended ({_one(e.get('stop_reason'))})",
        wire.TURN_ERROR: lambda e: f"\n!! the turn failed: {_one(e.get('message'))}",
        wire.PERMISSION: lambda e: (
            f"\n?? asks: {_one(e.get('title'))} ["
            + " / ".join(_one(o.get("name")) for o in e.get("options") or () if isinstance(o, dict))
            + "] (answer it with swarm inbox)"
        ),
        wire.PERMISSION_DONE: lambda e: f"   answered: {_one(e.get('option') or 'cancelled')}",
        wire.SESSION: lambda e: (
            f"-- session {_one(e.get('session'))}" + (" (loaded)" if e.get("loaded") else "")
        ),
        wire.EXITED: lambda e: f"\n!! the agent exited ({e.get('code')})",
        wire.HOST_ERROR: lambda e: f"\n!! {_one(e.get('message'))}",
    }.get(str(kind))
    return text(entry) if text is not None else None


def _update(entry: dict[str, Any]) -> str | None:
    kind = entry.get("kind")
    if kind == "agent_message_chunk":
        return escape_controls(str(entry.get("text") or ""), keep="\n")
    if kind in ("tool_call", "tool_call_update") and (entry.get("title") or entry.get("status")):
        return f"\n   [{_one(entry.get('title') or 'tool')}: {_one(entry.get('status') or '')}]"
    if kind == "plan":
        steps = "; ".join(_one(step, 80) for step in entry.get("plan") or ())
        return f"\n   plan: {steps}"
    return None


def _one(value: Any, limit: int = 200) -> str:
    return shorten(escape_controls(one_line(str(value if value is not None else ""))), limit)


async def attach(
    home: Path,
    agent: str,
    send: Callable[[str], Any],
    stop: Callable[[], Awaitable[str]] | None = None,
) -> int:
    """Show ``agent``'s transcript live; each line read from this terminal goes to ``send``
    (Ctrl+D leaves, the agent keeps running); Ctrl+C stops its running turn (``stop``: what
    it came to, in words), the agent and its task kept."""
    try:
        hello = await client.request(home, agent, wire.HELLO)
    except client.HostUnreachable as exc:
        raise InvalidState(f"{exc} (swarm desktop up --protocol starts it)") from None
    print(
        f"{agent}: protocol session {hello.get('session')} (host pid {hello.get('pid')}); "
        "a line typed here is sent to it as your message; Ctrl+C stops its turn; Ctrl+D "
        "leaves it running"
    )
    shown = asyncio.create_task(_show(home, agent, max(0, int(hello.get("seq") or 0) - BACKLOG)))
    loop = asyncio.get_running_loop()
    stopping: set[asyncio.Task[None]] = set()
    if stop is not None:
        loop.add_signal_handler(signal.SIGINT, _on_interrupt, loop, stop, stopping)
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip():
                await send(line.rstrip("\n"))
    finally:
        if stop is not None:
            loop.remove_signal_handler(signal.SIGINT)
        shown.cancel()
    print()
    return 0


def _on_interrupt(
    loop: asyncio.AbstractEventLoop,
    stop: Callable[[], Awaitable[str]],
    stopping: set[asyncio.Task[None]],
) -> None:
    """Ctrl+C: the agent's running turn stopped (one stop at a time), said on a line."""
    if stopping:
        return

    async def stopped() -> None:
        print(f"\n^C {await stop()}", flush=True)

    task = loop.create_task(stopped())
    stopping.add(task)
    task.add_done_callback(stopping.discard)


async def _show(home: Path, agent: str, after: int) -> None:
    async for entry in client.stream(home, agent, after):
        shown = line_of(entry)
        if shown is not None:
            print(shown, end="" if entry.get("kind") == "agent_message_chunk" else "\n", flush=True)
    print(f"\n!! {agent}'s protocol host ended the stream", flush=True)
