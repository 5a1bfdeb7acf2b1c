"""A protocol host's Unix socket (``core.hosts.wire``): one task per connection, one request a
line, each read once into its typed request (``core.hosts.requests.parse``: a bad one
answered with one line why) and answered by the host; ``events`` turns the connection into
the journal's stream. A caller that runs under a protocol host is refused
(``automation.protocol.callers``), whatever it asks, journaled as ``refused``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from automation.protocol import callers
from automation.protocol.bad_lines import BAD_LINE_S
from core.hosts import requests, wire
from core.hosts.entries import Refused
from core.hosts.replies import Done, Failed, Reply
from core.waits import within

if TYPE_CHECKING:
    from automation.protocol.host import Host

log = logging.getLogger(__name__)
REFUSE_READ_S = 2.0  # a refused caller's request: read this long at most (to name its op)


class Server:
    """The Unix socket: one task per connection, one request a line."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.writers: set[asyncio.StreamWriter] = set()
        self._refused: dict[int, tuple[float, int]] = {}  # pid -> (next journaled, times)

    async def close(self) -> None:
        """Close every connection (after the journal's streams ended)."""
        for writer in list(self.writers):
            writer.close()
        await asyncio.sleep(0.05)  # their tasks see the end of their input

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer this connection's requests until it closes; a caller that runs under a
        protocol host (this host's agent, or another's) is refused whatever it asks."""
        self.writers.add(writer)
        try:
            pid = callers.peer_pid(writer)
            why = callers.refusal(pid) if pid is not None else None
            if pid is not None and why is not None:
                await self._refuse(reader, writer, pid, why)
                return
            while line := await reader.readline():
                request = _parsed(line)
                if isinstance(request, requests.Events):
                    await self._stream(writer, request.after)
                    return
                if isinstance(request, str):
                    writer.write(_line(Failed(reason=request)))
                else:
                    writer.write(_line(await self._answer(request)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pid: int, why: str
    ) -> None:
        """Answer ``pid``'s first request with the refusal, journaled (at most once each
        ``BAD_LINE_S`` per process, with how many times since) and logged."""
        line = b""
        with contextlib.suppress(ValueError, TimeoutError):
            line = await within(reader.readline(), REFUSE_READ_S)
        op = callers.op_of(line)
        now = time.monotonic()
        next_at, times = self._refused.get(pid, (0.0, 0))
        if now < next_at:
            self._refused[pid] = (next_at, times + 1)
        else:  # said before it is answered: a caller that is gone hears nothing
            self._refused[pid] = (now + BAD_LINE_S, 0)
            log.warning("host %s: refused %s from pid %s: %s", self.host.agent, op, pid, why)
            self.host.journal.add(Refused(op=op, pid=pid, why=why, times=times + 1))
        writer.write(_line(Failed(reason=f"refused: {why}", refused=True)))
        await writer.drain()

    async def _answer(self, request: requests.Request) -> Reply:
        """The host's answer to ``request``; a failure of the agent's connection said."""
        host = self.host
        try:
            match request:
                case requests.Hello():
                    return host.hello()
                case requests.Prompt(delivery=delivery, text=text):
                    return await host.prompt(delivery, text)
                case requests.Answer():
                    return host.answer(request)
                case requests.Cancel():
                    return await host.cancel()
                case requests.NewSession():
                    return await host.new_session()
                case requests.Ack(seq=seq):
                    host.journal.ack(seq)
                    return Done()
                case requests.Stop():
                    await host.stop()
                    return Done()
        except Exception as exc:  # the agent's connection failed: said, the host goes on
            log.exception("host %s: %s failed", host.agent, request.op)
            return Failed(reason=f"{request.op} failed: {exc!r}")
        return Failed(reason=f"{request.op} is no request here")

    async def _stream(self, writer: asyncio.StreamWriter, after: int) -> None:
        journal = self.host.journal
        sent = after
        while not journal.closed:
            for entry in journal.after(sent):
                writer.write(entry.line)
                sent = entry.seq
            await writer.drain()
            await journal.wait_after(sent)


def _line(reply: Reply) -> bytes:
    """A reply as its line."""
    return wire.encode(reply.model_dump(mode="json"))


def _parsed(line: bytes) -> requests.Request | str:
    """One request line as its request, or why it is none (in one line)."""
    try:
        return requests.parse(wire.decode(line))
    except ValueError as exc:
        return f"bad request: {exc}"
