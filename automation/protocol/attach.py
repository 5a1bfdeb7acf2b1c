"""``swarm attach AGENT`` for a protocol agent: its live transcript from its host's journal
(the prompts it took, its answers, tool calls, plans, permission requests and each turn's
end), and each line typed sent to it as this person's message, through swarm (queued: held
while a task's turn runs, delivered at its end, as every message to a protocol agent)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from core.errors import InvalidState
from core.formats.text import escape_controls, one_line, shorten
from core.hosts import client, wire

BACKLOG = 200  # journal entries shown before the live ones
HOLD_S = 1.0  # how long a pending tool call's line waits for the permission request it needs


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


class Order:
    """Journal entries in the order a person reads them: a tool call's line while its status
    is pending is held, and a permission request naming that call is printed before it. A
    held line goes out with the next shown entry (before it), the call's own next update, a
    permission request naming it (after it), or ``HOLD_S`` after it came (``due``)."""

    def __init__(self) -> None:
        self.held: list[tuple[str, dict[str, Any]]] = []  # (its call's id, the entry)
        self.since: float | None = None  # when the oldest held line came (monotonic)

    def take(self, entry: dict[str, Any], now: float) -> list[dict[str, Any]]:
        """The entries to print now, ``entry`` taken (nothing lost, none twice)."""
        if line_of(entry) is None:
            return [entry]
        call = _pending_call(entry)
        if call:
            self.held.append((call, entry))
            self.since = now if self.since is None else self.since
            return []
        gated = _gated_call(entry)
        if gated and any(c == gated for c, _ in self.held):
            mine = [e for c, e in self.held if c == gated]
            self.held = [(c, e) for c, e in self.held if c != gated]
            self.since = now if self.held else None
            return [entry, *mine]
        return [*self.release(), entry]

    def release(self) -> list[dict[str, Any]]:
        """Every held entry, in the order they came."""
        held, self.held, self.since = [e for _, e in self.held], [], None
        return held

    def due(self, now: float) -> float | None:
        """Seconds until the held lines go out by themselves (None: none held)."""
        return None if self.since is None else max(0.0, self.since + HOLD_S - now)


def _pending_call(entry: dict[str, Any]) -> str:
    """The id of the tool call ``entry`` shows still pending ("" when it is none such)."""
    if entry.get("type") != wire.UPDATE or entry.get("kind") not in (
        "tool_call",
        "tool_call_update",
    ):
        return ""
    call = entry.get("tool_call_id")
    return call if entry.get("status") == "pending" and isinstance(call, str) else ""


def _gated_call(entry: dict[str, Any]) -> str:
    """The id of the tool call a permission request names ("" when none)."""
    tool = entry.get("tool") if entry.get("type") == wire.PERMISSION else None
    call = tool.get("toolCallId") if isinstance(tool, dict) else None
    return call if isinstance(call, str) else ""


async def ordered(entries: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """``entries`` in ``Order``: a pending call's line held at most ``HOLD_S``; every held
    line given at the stream's end."""
    order, came = Order(), asyncio.Queue[dict[str, Any] | None]()

    async def read() -> None:
        try:
            async for entry in entries:
                await came.put(entry)
        finally:
            await came.put(None)

    reader = asyncio.create_task(read())
    try:
        while True:
            try:
                entry = await asyncio.wait_for(came.get(), order.due(time.monotonic()))
            except TimeoutError:
                for held in order.release():
                    yield held
                continue
            if entry is None:
                break
            for shown in order.take(entry, time.monotonic()):
                yield shown
        for held in order.release():
            yield held
        await reader  # the stream's own error, if it ended in one
    finally:
        reader.cancel()


async def _show(home: Path, agent: str, after: int) -> None:
    async for entry in ordered(client.stream(home, agent, after)):
        shown = line_of(entry)
        if shown is not None:
            print(shown, end="" if entry.get("kind") == "agent_message_chunk" else "\n", flush=True)
    print(f"\n!! {agent}'s protocol host ended the stream", flush=True)
