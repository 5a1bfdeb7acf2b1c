"""The coordinator's end of the hooks' fast path (``bot.hook_relay``): a Unix socket at
``$SWARM_HOME/hook.sock`` (0600) where the agents' hooks on this machine hand over their
events. Each is parsed and its agent named as ``swarm hook`` does, answered
``{"done": true}`` at once, and recorded after in the order they came (a turn's ``Stop``
never overtaken by its ``PreToolUse``), all that came meanwhile in one transaction: the
agent CLI waits for its hook (Claude Code ends a turn only after its ``Stop`` hook), and
under load a database write took seconds (with 32 real CLIs on 2 cores, Claude Code's
``Stop`` hook took 2.8 s at the median and ran into its 10 s timeout 7 times in 85). A
clean stop records what it took first; a coordinator killed outright loses the events taken
and not yet written (the pane's text and the stall rules go on judging the agent). Each is
dated when it was taken (``hook_events.record``'s ``at``: written late, it never undoes a
later one), and ``bot.hook_relay.flush`` (the ``PermissionRequest`` hook's, before it opens
its prompt through the database) is answered once everything taken before it is written.

An event is recorded for the agent whose terminal the sender runs in: the socket's peer
credentials (``SO_PEERCRED``) give the hook's process, ``core.agents._identity`` walks its
parents up to an agent's pane (or another root it knows). A name in the message
(``--agent``, ``SWARM_AGENT``) that is not that agent's is refused in one log line and an
``access.refused`` event; a sender outside every agent's terminal is believed only for an
agent swarm cannot place.

A hook falls back to the database when this says ``{"done": false}``: a
``PermissionRequest`` (it waits for its answer itself), a hook of another agents file, a
line that is no relay message, or a queue still full after ``FULL_WAIT_S`` (at most
``QUEUE_MAX`` events and ``QUEUE_BYTES_MAX`` bytes of their JSON wait to be written; at
most ``SERVE_MAX`` connections are read at once). Hostile text cannot stop it: a bad line
is one log line and that connection's end; a slow sender is cut off after ``READ_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.hook_common import freshness, hook_refusal
from bot.hook_relay import FLUSH_LINE, SOCKET_NAME
from core.agents import (
    HookEvent,
    Placement,
    Refused,
    Resolver,
    UnknownHookEvent,
    claimed_agent,
    hook_agent,
    parse,
)
from core.errors import NotFound, Transient
from core.privacy.files import make_dirs
from core.processes import ancestry, peer_of
from core.waits import Background, ErrorBackoff, within

if TYPE_CHECKING:
    from bot.config import Config
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
READ_S = 2.0  # the longest a hook may take to send its line
DRAIN_S = 10.0  # a stop waits this long for the events taken to be written
FLUSH_S = 8.0  # a flush (the PermissionRequest hook's) waits at most this long
SLOW_WRITE_S = 2.0  # a write of the events taken that took this long is said in the log
BATCH_MAX = 200  # events written in one transaction at most
WRITE_TRIES = 6  # a taken event's write, tried again while the database is busy (~12 s)
LINE_MAX = 1 << 20  # a hook's JSON is small; more is no hook
PATH_MAX = 100  # a Unix socket's path is at most 107 bytes on Linux, 103 on macOS
QUEUE_MAX = 1000  # events taken and not yet written, at most
QUEUE_BYTES_MAX = 16 << 20  # the bytes of their hooks' lines, at most
FULL_WAIT_S = 1.0  # a hook waits this long for room, then writes its own event
SERVE_MAX = 32  # connections read at once (the others wait, their lines in the kernel)


class HookServer:
    """Serves ``$SWARM_HOME/hook.sock`` while the coordinator runs."""

    def __init__(self, service: SwarmService, config: Config) -> None:
        self.service = service
        self.config = config
        self.path = service.settings.home / SOCKET_NAME
        self.recorded = 0  # events written (tests and the log read it)
        self._server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self.resolver = Resolver(config.env, service.settings.home)  # whose terminal a hook runs in
        # events taken (agent, event, when), refusals to record, and the flushes asked for,
        # in the order they came; bounded (``_room``) by count and bytes
        self._taken: asyncio.Queue[Taken | Refusal | asyncio.Future[None]] = asyncio.Queue()
        self.waiting = 0  # events and refusals taken, not yet written
        self.waiting_bytes = 0
        self._freed = asyncio.Event()
        self._serving = asyncio.Semaphore(SERVE_MAX)
        self._connections: set[asyncio.Task[Any]] = set()  # being served
        self._writer: asyncio.Task[None] | None = None
        self._writing = Background("hook socket")  # its writer, awaited at ``close``

    async def start(self) -> bool:
        """Listen; False (said once in the log) when the hooks keep the database path."""
        if len(os.fsencode(self.path)) > PATH_MAX:
            log.info("hooks use the database: the socket path %s is too long", self.path)
            return False
        make_dirs(self.path.parent)  # a node's home on PostgreSQL may hold nothing yet
        if self.path.exists():
            if _answers(self.path):
                log.warning("hooks use the database: another process serves %s", self.path)
                return False
            self.path.unlink()  # left by a coordinator that was killed
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=LINE_MAX
            )
        finally:
            os.umask(old)
        self._inode = self.path.stat().st_ino
        writing = self._write_taken()
        self._writer = self._writing.start(writing, name="hook-socket-writer", awaited=True)
        log.info("hooks on this machine report through %s", self.path)
        return True

    async def written(self) -> None:
        """Return once every event taken so far is recorded (or its failure logged)."""
        await self._taken.join()

    async def close(self) -> None:
        """Stop listening; remove the socket if it is still this server's."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()
        if self._connections:  # Python 3.11's wait_closed does not wait for them
            await asyncio.wait(self._connections, timeout=READ_S + FULL_WAIT_S)
        with contextlib.suppress(OSError):
            if self.path.stat().st_ino == self._inode:
                self.path.unlink()
        await self._stop_writer()
        log.info("hook socket closed after %d events", self.recorded)

    async def _stop_writer(self) -> None:
        """Write what was taken (at most ``DRAIN_S``: said in the log if not), then stop."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            await within(self.written(), DRAIN_S)
        except TimeoutError:
            log.warning("hook socket: %d events taken were not recorded before the stop",
                        self._taken.qsize())  # fmt: skip
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    async def _write_taken(self) -> None:
        """Record the events taken in the order they came, all that came meanwhile in one
        transaction (at most ``BATCH_MAX``); a flush is answered once everything taken
        before it is."""
        while True:
            batch = [await self._taken.get()]
            while len(batch) < BATCH_MAX and not self._taken.empty():
                batch.append(self._taken.get_nowait())
            try:
                await self._write([i for i in batch if isinstance(i, Taken)])
                await self._audit([i for i in batch if isinstance(i, Refusal)])
            finally:
                for item in batch:
                    if isinstance(item, asyncio.Future) and not item.done():
                        item.set_result(None)
                    elif not isinstance(item, asyncio.Future):
                        self.waiting -= 1
                        self.waiting_bytes -= item.size
                    self._taken.task_done()
                self._freed.set()

    async def _audit(self, refused: list[Refusal]) -> None:
        """Record each refusal (an ``access.refused`` event and an audit row)."""
        for one in refused:
            try:
                await self.service.history.refused(one.actor, one.agent, one.command, one.why,
                                                   one.user)  # fmt: skip
            except Exception as exc:
                log.warning("hook socket: a refusal not recorded (%s): %s", exc, one.why)

    async def _write(self, taken: list[Taken]) -> None:
        """Events recorded in one transaction; a database busy or away for now is tried
        again (``WRITE_TRIES`` in all, waiting longer each time: the hooks that sent them are
        gone); one that fails otherwise, each on its own (one bad event spoils no other)."""
        if not taken:
            return
        # each agent's events in their order, the agents in the agents file's (as the watcher
        # writes them): two writers taking the same rows in another order deadlock
        place = {agent: n for n, agent in enumerate(self.service.agents)}
        ordered = sorted(taken, key=lambda t: place.get(t.agent, len(place)))
        book, rows = self.service.signals, [(t.agent, t.event, t.at) for t in ordered]
        backoff, began = ErrorBackoff(0.5, 5.0), time.monotonic()
        for left in range(WRITE_TRIES - 1, -1, -1):
            try:
                await book.record_taken(rows, freshness(self.config))
            except Transient as exc:
                if not left:
                    log.warning("hook socket: %d events not recorded: %s", len(rows), exc)
                    return
                wait = backoff.failed()
                log.info("hook socket: %d events not recorded yet (%s): trying again in "
                         "%.1f s", len(rows), exc, wait)  # fmt: skip
                await asyncio.sleep(wait)
            except Exception:
                if len(rows) == 1:
                    log.exception("hook socket: %s not recorded", taken[0])
                    return
                for one in taken:
                    await self._write([one])
                return
            else:
                self.recorded += len(rows)
                took = time.monotonic() - began
                if took >= SLOW_WRITE_S:
                    log.info("hook socket: %d events written in %.1f s (%d waiting)", len(rows),
                             took, self._taken.qsize())  # fmt: skip
                return

    async def _flushed(self) -> bool:
        """Wait until every event taken so far is written (at most ``FLUSH_S``)."""
        barrier: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._taken.put_nowait(barrier)
        try:
            await within(asyncio.shield(barrier), FLUSH_S)
        except TimeoutError:
            log.warning("hook socket: a flush waited %.0f s: the events before it are late",
                        FLUSH_S)  # fmt: skip
            return False
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        done, flush, peer = False, False, _peer(writer)
        try:
            await within(self._serving.acquire(), READ_S)
            try:
                line = await within(reader.readline(), READ_S)
                # no line: a probe (another process asking whether this one serves)
                flush = _is_flush(line)
                if line and not flush:
                    done = await self._take(line, peer)
            finally:
                self._serving.release()
            if flush:
                done = await self._flushed()
        except (TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
            log.warning("hook socket: a message not taken (%s)", type(exc).__name__)
        except Exception:
            log.exception("hook socket: a message not taken")
        try:
            writer.write(json.dumps({"done": done}).encode("utf-8") + b"\n")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except OSError:
            pass  # the hook gave up: it records through the database itself

    async def _take(self, line: bytes, peer: Peer | None) -> bool:
        """Take one relay message to be recorded; False: the hook must use the database."""
        message = json.loads(line)
        if not isinstance(message, dict) or not isinstance(message.get("payload"), str):
            return False
        if not self._same_config(message.get("config")):
            return False
        try:
            event = parse(message["payload"])
        except UnknownHookEvent as exc:
            log.warning("swarm hook: %s: nothing recorded", exc)
            return True
        if event.asks_permission:
            return False
        return await self._queue(message, event, peer, len(line))

    async def _queue(
        self, message: dict[str, Any], event: HookEvent, peer: Peer | None, size: int
    ) -> bool:
        given, env_agent = _text(message.get("agent")), _text(message.get("swarm_agent"))
        cwd = _text(message.get("cwd")) or str(self.service.settings.home)
        agents = self.service.agents
        if peer is not None and not peer.chain:
            # gone before it could be placed: it gave up waiting and records its event
            # through the database itself (placed there, by its own process)
            log.info("swarm hook: %s from pid %s, gone before it was placed: left to the "
                     "hook itself", event.name, peer.pid)  # fmt: skip
            return False
        pid, chain = (peer.pid, list(peer.chain)) if peer else (None, [])
        named = (("--agent", given), ("SWARM_AGENT", env_agent))
        claimed = claimed_agent(agents, named)
        placed = await asyncio.to_thread(self.resolver.place, pid, agents, chain, claimed)
        try:
            where = Path(event.cwd or cwd)
            who = hook_agent(agents, self.service.settings.home, placed, named, where)
        except NotFound as exc:
            log.warning("swarm hook: %s: nothing recorded", exc)
            return True
        if isinstance(who, Refused):
            return self._refuse(placed, who, event, peer)
        if who is None:
            log.warning("swarm hook: %s from %s: no agent (set SWARM_AGENT or --agent): "
                        "nothing recorded", event.name, event.cwd or cwd)  # fmt: skip
            return True
        if not await self._room(size):
            return False
        self._put(Taken(who, event, self.service.clock.now(), size))
        return True

    def _refuse(
        self, placed: Placement, refused: Refused, event: HookEvent, peer: Peer | None
    ) -> bool:
        """Say the refusal in one log line; its event and audit row are written in turn
        (when the queue has room: the log line is enough under a flood)."""
        why = hook_refusal(event, refused)
        log.warning("swarm hook: %s", why)
        user = f"os:uid {peer.uid}" if peer else "os:unknown"
        command = f"swarm hook {event.name} --agent {refused.named}"
        if self.waiting < QUEUE_MAX:
            self._put(Refusal(placed.agent or "hook", refused.named, command, why, user))
        return True

    async def _room(self, size: int) -> bool:
        """Wait (at most ``FULL_WAIT_S``) until an event of ``size`` bytes fits the queue;
        False when it still does not (logged: the hook writes its own event)."""
        deadline = time.monotonic() + FULL_WAIT_S
        while self.waiting >= QUEUE_MAX or (
            self.waiting and self.waiting_bytes + size > QUEUE_BYTES_MAX
        ):
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("hook socket: %d events (%.1f MB) wait to be written: the hook "
                            "writes its own", self.waiting, self.waiting_bytes / 1e6)  # fmt: skip
                return False
            self._freed.clear()
            with contextlib.suppress(TimeoutError):
                await within(self._freed.wait(), left)
        return True

    def _put(self, item: Taken | Refusal) -> None:
        self.waiting += 1
        self.waiting_bytes += item.size
        self._taken.put_nowait(item)

    def _same_config(self, config: object) -> bool:
        """A hook that names an agents file names this coordinator's."""
        if config is None:
            return True
        if not isinstance(config, str):
            return False
        try:
            return Path(config).resolve() == self.service.settings.config_path.resolve()
        except OSError:
            return False


@dataclass(frozen=True)
class Taken:
    """An event the socket took: whose, what, and when it came."""

    agent: str
    event: HookEvent
    at: float
    size: int = 0  # the bytes of its hook's line

    def __str__(self) -> str:
        return f"{self.event.name} of {self.agent}"


@dataclass(frozen=True)
class Refusal:
    """A hook event refused (its agent's name was not the sender's), to be recorded."""

    actor: str
    agent: str
    command: str
    why: str
    user: str
    size: int = 0


@dataclass(frozen=True)
class Peer:
    """Who connected: the process and its user (the socket's peer credentials)."""

    pid: int
    uid: int
    chain: tuple[int, ...] = ()  # the process and its parents when it connected


def _peer(writer: asyncio.StreamWriter) -> Peer | None:
    """The connected process (``SO_PEERCRED``; None where the system has no such option)."""
    found = peer_of(writer.get_extra_info("socket"))
    if found is None:
        return None
    pid, uid = found
    # its parents read now (a few small /proc reads): a hook that gives up and exits before
    # its event is placed leaves no chain to walk
    return Peer(pid, uid, tuple(ancestry(pid)))


def _is_flush(line: bytes) -> bool:
    """Whether the line is ``bot.hook_relay.flush``'s."""
    return line.strip() == FLUSH_LINE


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _answers(path: Path) -> bool:
    """Whether a process listens on the socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
