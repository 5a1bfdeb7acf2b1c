"""Swarm's side of a host socket: one request and its typed reply (``hello``, ``prompt``,
``answer``, ``cancel``, ``new_session``, ``ack``, ``stop``), and the journal's stream of typed
entries (``stream``). Every call is bounded: a host that does not answer in time is said to
be unreachable, never waited for."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from core.hosts import entries, lines, replies, requests, wire
from core.hosts.entries import Entry
from core.hosts.replies import Cancelled, D, Done, Failed, HostHello, Opened, Reply, Taken
from core.waits import within

__all__ = ["Cancelled", "Done", "Failed", "HostHello", "HostUnreachable", "Opened", "Reply",
           "Taken", "ack", "answer", "cancel", "hello", "new_session", "prompt", "request",
           "stop", "stream", "unread"]  # fmt: skip

CONNECT_S = 5.0  # connecting to a host's socket
WAIT_S = 10.0  # a host's answer, unless the caller says


class HostUnreachable(Exception):
    """The host's socket is missing, refuses, or did not answer in time (one line).
    ``gone``: no host runs there (no socket, or nothing listening on it), not one slow to
    answer."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


async def hello(home: Path, agent: str, wait_s: float = WAIT_S) -> HostHello:
    """Who and where ``agent``'s host is; HostUnreachable where it refuses to say."""
    said = await request(home, agent, requests.Hello(), HostHello, wait_s)
    if isinstance(said, Failed):
        raise HostUnreachable(f"{agent}'s protocol host did not say hello: {said.reason}")
    return said


async def prompt(
    home: Path, agent: str, delivery: int, text: str, wait_s: float = WAIT_S
) -> Taken | Failed:
    """A prompt for ``agent``, once it accepted it (or why not)."""
    return await request(home, agent, requests.Prompt(delivery=delivery, text=text), Taken, wait_s)


async def answer(
    home: Path, agent: str, said: requests.Answer, wait_s: float = WAIT_S
) -> Done | Failed:
    """Swarm's answer to ``agent``'s waiting permission request."""
    return await request(home, agent, said, Done, wait_s)


async def cancel(home: Path, agent: str, wait_s: float = WAIT_S) -> Cancelled | Failed:
    """Stop ``agent``'s running turn."""
    return await request(home, agent, requests.Cancel(), Cancelled, wait_s)


async def new_session(home: Path, agent: str, wait_s: float = WAIT_S) -> Opened | Failed:
    """A new session for ``agent`` (its context cleared)."""
    return await request(home, agent, requests.NewSession(), Opened, wait_s)


async def ack(home: Path, agent: str, seq: int, wait_s: float = WAIT_S) -> Done | Failed:
    """Tell ``agent``'s host swarm has its journal up to ``seq``."""
    return await request(home, agent, requests.Ack(seq=seq), Done, wait_s)


async def stop(home: Path, agent: str, wait_s: float = WAIT_S) -> Done | Failed:
    """End ``agent``'s host and its agent."""
    return await request(home, agent, requests.Stop(), Done, wait_s)


async def request(
    home: Path, agent: str, said: requests.Request, kind: type[D], wait_s: float = WAIT_S
) -> D | Failed:
    """Send one request to ``agent``'s host and read its reply, a ``kind`` or ``Failed``."""
    path = wire.socket_path(home, agent)
    op = said.op
    try:
        connecting = asyncio.open_unix_connection(str(path), limit=wire.LINE_LIMIT)
        reader, writer = await within(connecting, CONNECT_S)
    except FileNotFoundError:
        raise HostUnreachable(
            f"{agent}'s protocol host is not running (no {path.name})", gone=True
        ) from None
    except ConnectionRefusedError:
        raise HostUnreachable(
            f"{agent}'s protocol host is not running (nothing listens on {path.name})", gone=True
        ) from None
    except (TimeoutError, OSError) as exc:
        raise HostUnreachable(f"{agent}'s protocol host refused the connection: {exc!r}") from None
    try:
        writer.write(wire.encode(requests.line(said)))
        await writer.drain()
        line = await within(reader.readline(), wait_s)
    except (TimeoutError, OSError, ValueError) as exc:
        raise HostUnreachable(f"{agent}'s protocol host did not answer {op}: {exc!r}") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not line:
        raise HostUnreachable(f"{agent}'s protocol host closed the connection on {op}")
    try:
        raw = wire.decode(line)
    except ValueError as exc:
        raise HostUnreachable(f"{agent}'s protocol host answered nonsense: {exc}") from None
    return replies.read(kind, raw)


async def stream(home: Path, agent: str, after: int) -> AsyncIterator[Entry]:
    """The host's journal entries after ``after``, then each new one, each read once
    (``core.hosts.entries.read``), until the host closes the connection (HostUnreachable
    when it cannot be reached). A line over the limit (a host from before entries were
    bounded) comes as ``unread``: the fields its head holds, its size; one that is no JSON
    object is skipped."""
    path = wire.socket_path(home, agent)
    try:
        connecting = asyncio.open_unix_connection(str(path), limit=wire.LINE_LIMIT)
        reader, writer = await within(connecting, CONNECT_S)
    except (TimeoutError, OSError) as exc:
        raise HostUnreachable(f"{agent}'s protocol host is not reachable: {exc!r}") from None
    try:
        writer.write(wire.encode(requests.line(requests.Events(after=after))))
        await writer.drain()
        while line := await lines.read_line(reader):
            if isinstance(line, lines.Overlong):
                yield unread(line)
                continue
            found = lines.parse(line)
            if isinstance(found, dict):
                yield entries.read(found)
    finally:
        writer.close()


def unread(line: lines.Overlong) -> Entry:
    """An entry too long to read, as what its head says: its number, time and type, the
    small fields before its bulk, and ``unread`` (its size in bytes)."""
    fields = line.head_fields()
    return entries.read({**{k: fields[k] for k in wire.HEAD_FIELDS if k in fields},
                         "unread": line.size})  # fmt: skip
