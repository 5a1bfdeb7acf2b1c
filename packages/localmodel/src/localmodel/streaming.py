"""Server-sent events, paced: a delay between content chunks, a stall after some of them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from localmodel.player import Outcome
from localmodel.recording import RecordedRequest
from localmodel.usage import Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One SSE event's bytes; ``chunk`` marks content (paced, counted for a stall); ``usage``
    the tokens it reports (the answer's so far, as the client counts them once it is sent)."""

    data: bytes
    chunk: bool = False
    usage: Usage | None = None


def sse(payload: Any, name: str | None = None) -> bytes:
    """``event: name`` (when given) and ``data: <json>``, then the blank line."""
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


def chunks(text: str, size: int) -> Iterator[str]:
    """The text in pieces of ``size`` characters (none for empty text)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]


class Pauses:
    """How answers wait: until a time passes, :meth:`release` is called, or the server closes."""

    def __init__(self) -> None:
        self._release = asyncio.Event()
        self.closing = asyncio.Event()
        self.stalled = 0
        self.releases = 0  # how many times :meth:`release` was called

    def release(self) -> int:
        """End every stall and delay under way (their answers go on), and the pace of every
        stream under way (the rest of it is sent at once); how many stalls and delays there
        were."""
        count = self.stalled
        self.releases += 1
        self._release.set()
        self._release = asyncio.Event()
        return count

    async def sleep(self, seconds: float, since: int | None = None) -> bool:
        """Wait (a stream's pace between its chunks), unless :meth:`release` was called after
        ``since`` (its count then) or is called meanwhile; False if the server closes."""
        if seconds <= 0 or (since is not None and since != self.releases):
            return not self.closing.is_set()
        await _first_set(seconds, self.closing, self._release)
        return not self.closing.is_set()

    async def hold(self, seconds: float) -> bool:
        """Send nothing for ``seconds`` before an answer starts (a step's ``delay``), or until
        :meth:`release` (counted as a stall); False if the server closes meanwhile."""
        if seconds <= 0:
            return not self.closing.is_set()
        return await self.stall(seconds)

    async def stall(self, seconds: float | None) -> bool:
        """Send nothing for ``seconds`` (None: until released); False if the server closes."""
        self.stalled += 1
        try:
            await _first_set(seconds, self.closing, self._release)
        finally:
            self.stalled -= 1
        return not self.closing.is_set()


async def _first_set(seconds: float | None, *events: asyncio.Event) -> bool:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)


async def stream(
    request: web.Request,
    events: Iterable[Event],
    outcome: Outcome,
    pauses: Pauses,
    record: RecordedRequest,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """Send the events as ``text/event-stream``, paced as the outcome's step says; the
    record's usage is the latest an event sent reported."""
    step = outcome.step
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            **(headers or {}),
        }
    )
    await response.prepare(request)
    events = list(events)
    total = sum(1 for e in events if e.chunk)
    stall_at = min(step.stall_after or 0, total) if outcome.stall else -1
    sent, paced = 0, pauses.releases  # a release from now on ends the pace
    try:
        for event in events:
            if sent == stall_at and (event.chunk or sent == total):
                stall_at = -1
                log.info("localmodel: stream stalled after %d of %d chunks", sent, total)
                if not await pauses.stall(step.stall_for):
                    return response
            elif event.chunk and sent and not await pauses.sleep(step.chunk_delay, paced):
                return response
            sent += event.chunk
            await response.write(event.data)
            if event.usage is not None:
                record.usage = event.usage
        await response.write_eof()
    except (ConnectionResetError, asyncio.CancelledError):
        log.info("localmodel: the client left the stream after %d chunks", sent)
        raise
    return response
