"""Swarm's side of a host socket: one request and its answer (``request``), and the journal's
stream (``stream``). Every call is bounded: a host that does not answer in time is said to
be unreachable, never waited for."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from core.hosts import lines, wire

CONNECT_S = 5.0  # connecting to a host's socket


class HostUnreachable(Exception):
    """The host's socket is missing, refuses, or did not answer in time (one line).
    ``gone``: no host runs there (no socket, or nothing listening on it), not one slow to
    answer."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


async def request(
    home: Path, agent: str, op: str, wait_s: float = 10.0, **fields: Any
) -> dict[str, Any]:
    """Send one request to ``agent``'s host and return its answer."""
    path = wire.socket_path(home, agent)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(path), limit=wire.LINE_LIMIT), CONNECT_S
        )
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
        writer.write(wire.encode({"op": op, **fields}))
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait_s)
    except (TimeoutError, OSError) as exc:
        raise HostUnreachable(f"{agent}'s protocol host did not answer {op}: {exc!r}") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if not line:
        raise HostUnreachable(f"{agent}'s protocol host closed the connection on {op}")
    try:
        return wire.decode(line)
    except ValueError as exc:
        raise HostUnreachable(f"{agent}'s protocol host answered nonsense: {exc}") from None


async def stream(home: Path, agent: str, after: int) -> AsyncIterator[dict[str, Any]]:
    """The host's journal entries after ``after``, then each new one, until the host closes
    the connection (HostUnreachable when it cannot be reached). A line over the limit (a host
    from before entries were bounded) comes as ``unread``: the fields its head holds, its
    size; one that is no JSON object is skipped."""
    path = wire.socket_path(home, agent)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(path), limit=wire.LINE_LIMIT), CONNECT_S
        )
    except (TimeoutError, OSError) as exc:
        raise HostUnreachable(f"{agent}'s protocol host is not reachable: {exc!r}") from None
    try:
        writer.write(wire.encode({"op": wire.EVENTS, "after": after}))
        await writer.drain()
        while line := await lines.read_line(reader):
            if isinstance(line, lines.Overlong):
                yield unread(line)
                continue
            found = lines.parse(line)
            if isinstance(found, dict):
                yield found
    finally:
        writer.close()


def unread(line: lines.Overlong) -> dict[str, Any]:
    """An entry too long to read, as what its head says: its number, time and type, the
    small fields before its bulk, and ``unread`` (its size in bytes)."""
    fields = line.fields()
    return {**{k: fields[k] for k in wire.HEAD_FIELDS if k in fields}, "unread": line.size}
