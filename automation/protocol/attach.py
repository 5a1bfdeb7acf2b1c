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
from core.hosts import client
from core.hosts.entries import (
    Entry,
    Exited,
    HostError,
    PermissionAsked,
    PermissionDone,
    Session,
    Turn,
    TurnEnd,
    TurnError,
    Update,
)
from core.waits import Background, within

BACKLOG = 200  # journal entries shown before the live ones
HOLD_S = 1.0  # how long a pending tool call's line waits for the permission request it needs


def line_of(entry: Entry) -> str | None:
    """One journal entry as the transcript shows it (None: not shown); every control
    character escaped, so nothing the agent writes moves this terminal's cursor."""
    match entry.body:
        case Update() as update:
            return _update(update)
        case Turn(text=said):
            return f"\n> {_one(said, 300)}"
        case TurnEnd(stop_reason=reason):
            return f"\n-- turn ended ({_one(reason)})"
        case TurnError(message=message):
            return f"\n!! the turn failed: {_one(message)}"
        case PermissionAsked(title=title, options=options):
            names = " / ".join(_one(option.name) for option in options)
            return f"\n?? asks: {_one(title)} [{names}] (answer it with swarm inbox)"
        case PermissionDone(option=option):
            return f"   answered: {_one(option or 'cancelled')}"
        case Session(session=session, loaded=loaded):
            return f"-- session {_one(session)}" + (" (loaded)" if loaded else "")
        case Exited(code=code):
            return f"\n!! the agent exited ({code})"
        case HostError(message=message):
            return f"\n!! {_one(message)}"
    return None


def _update(update: Update) -> str | None:
    if update.kind == "agent_message_chunk":
        return escape_controls(update.text, keep="\n")
    if update.kind in ("tool_call", "tool_call_update") and (update.title or update.status):
        return f"\n   [{_one(update.title or 'tool')}: {_one(update.status)}]"
    if update.kind == "plan":
        return f"\n   plan: {'; '.join(_one(step, 80) for step in update.plan)}"
    return None


def _one(value: object, limit: int = 200) -> str:
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
        hello = await client.hello(home, agent)
    except client.HostUnreachable as exc:
        raise InvalidState(f"{exc} (swarm desktop up --protocol starts it)") from None
    loop = asyncio.get_running_loop()
    stopping = Background(f"attach to {agent}: Ctrl+C")
    if stop is not None:  # before the line that says Ctrl+C stops its turn: it does from then
        loop.add_signal_handler(signal.SIGINT, _on_interrupt, stop, stopping)
    print(
        f"{agent}: protocol session {_one(hello.session, 80)} (host pid {hello.pid}); "
        "a line typed here is sent to it as your message; Ctrl+C stops its turn; Ctrl+D "
        "leaves it running",
        flush=True,
    )
    after = max(0, hello.seq - BACKLOG)
    showing = Background(f"attach to {agent}")
    shown = showing.start(_show(home, agent, after), name="attach-show")
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


def _on_interrupt(stop: Callable[[], Awaitable[str]], stopping: Background) -> None:
    """Ctrl+C: the agent's running turn stopped (one stop at a time), said on a line."""
    if len(stopping):
        return

    async def stopped() -> None:
        print(f"\n^C {await stop()}", flush=True)

    stopping.start(stopped(), name="attach-stop")


class Order:
    """Journal entries in the order a person reads them: a tool call's line while its status
    is pending is held, and a permission request naming that call is printed before it. A
    held line goes out with the next shown entry (before it), the call's own next update, a
    permission request naming it (after it), or ``HOLD_S`` after it came (``due``)."""

    def __init__(self) -> None:
        self.held: list[tuple[str, Entry]] = []  # (its call's id, the entry)
        self.since: float | None = None  # when the oldest held line came (monotonic)

    def take(self, entry: Entry, now: float) -> list[Entry]:
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

    def release(self) -> list[Entry]:
        """Every held entry, in the order they came."""
        held, self.held, self.since = [e for _, e in self.held], [], None
        return held

    def due(self, now: float) -> float | None:
        """Seconds until the held lines go out by themselves (None: none held)."""
        return None if self.since is None else max(0.0, self.since + HOLD_S - now)


def _pending_call(entry: Entry) -> str:
    """The id of the tool call ``entry`` shows still pending ("" when it is none such)."""
    update = entry.body
    if not isinstance(update, Update) or update.kind not in ("tool_call", "tool_call_update"):
        return ""
    return update.tool_call_id if update.status == "pending" else ""


def _gated_call(entry: Entry) -> str:
    """The id of the tool call a permission request names ("" when none)."""
    asked = entry.body
    return asked.tool_call_id if isinstance(asked, PermissionAsked) else ""


async def ordered(journal: AsyncIterator[Entry]) -> AsyncIterator[Entry]:
    """``entries`` in ``Order``: a pending call's line held at most ``HOLD_S``; every held
    line given at the stream's end."""
    order, came = Order(), asyncio.Queue[Entry | None]()

    async def read() -> None:
        try:
            async for entry in journal:
                await came.put(entry)
        finally:
            await came.put(None)

    reading = Background("attach's journal")
    reader = reading.start(read(), name="attach-reader", awaited=True)
    try:
        while True:
            try:
                entry = await within(came.get(), order.due(time.monotonic()))
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
            chunk = isinstance(entry.body, Update) and entry.body.kind == "agent_message_chunk"
            print(shown, end="" if chunk else "\n", flush=True)
    print(f"\n!! {agent}'s protocol host ended the stream", flush=True)
