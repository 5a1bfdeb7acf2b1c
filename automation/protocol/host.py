"""The host process of one protocol agent: it starts the agent's CLI in its ACP mode (the ACP
Python SDK does the framing), opens or loads its session, and serves swarm on a Unix socket
(``core.hosts.wire``). It outlives ``swarm run`` and ``swarm node``: what the agent says while
swarm is away waits in the host's journal until swarm acknowledges it.

    python -m bot.protocol_host --home H --agent A --cwd DIR [--mcp JSON] [--protocol P] \
        [--nice N] [--cumulative-usage] -- COMMAND ARGS...

One turn at a time: a prompt while a turn runs is refused as ``busy`` (swarm delivers it when
the turn ends). A prompt is accepted when the agent sent its first update of the turn, asked
a permission, or answered the request; a delivery id seen before is accepted again without
sending it twice.
A permission request waits for swarm's ``answer`` (the option the person chose); a cancel
answers every waiting request ``cancelled``, as ACP asks of a client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from automation.protocol import callers, running_usage
from core import clis
from core.hosts import journal_file, lines, wire
from core.hosts.entries import Answer, PermissionAsked, PermissionDone, RequestOption
from core.hosts.turns import TOTAL_COST, Driver, Ended, Launched, TurnFailed
from core.privacy import files

log = logging.getLogger(__name__)
ACP = "acp"
ACCEPT_S = 30.0  # a prompt with no update nor answer this long is taken as accepted (in flight)
KEEP = 5_000  # journal entries kept in memory after their acknowledgement (the transcript)
START_S = 120.0  # initialize and the session, at most
BAD_LINE_S = 1.0  # a line the agent wrote that cannot be taken: journaled at most this often
REFUSE_READ_S = 2.0  # a refused caller's request: read this long at most (to name its op)
OUTPUT_END_S = 1.0  # the agent closed its output: its exit is waited for this long


class Journal:
    """The host's entries, numbered, in memory (unacknowledged ones and the last ``KEEP``)
    and appended to the journal file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.seq = 0
        self.acked = 0
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []  # streams waiting for a new entry
        self._file = private_file(path)

    def add(self, entry_type: str, /, **fields: Any) -> dict[str, Any]:
        """Append one entry (at most ``lines.ENTRY_LIMIT`` bytes: cut where longer) and wake
        the streams."""
        self.seq += 1
        entry = {"seq": self.seq, "at": time.time(), "type": entry_type, **fields}
        if self.seq == 1:  # a life's first entry names its host (``journal_file.lives``)
            entry["host"] = os.getpid()
        entry, line = lines.bounded(entry, wire.encode(entry))
        self.entries.append(entry)
        self._file.write(line)
        self._file.flush()
        self._prune()
        self._wake()
        return entry

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_after(self, seq: int) -> None:
        """Return once an entry after ``seq`` is held, or the journal is closed."""
        while self.seq <= seq and not self.closed:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def after(self, seq: int) -> list[dict[str, Any]]:
        """The entries after ``seq`` still held (they are numbered without a gap: a slice)."""
        if not self.entries:
            return []
        return self.entries[max(0, seq - self.entries[0]["seq"] + 1) :]

    def ack(self, seq: int) -> None:
        """Swarm has the entries up to ``seq``."""
        self.acked = max(self.acked, min(seq, self.seq))
        self._prune()

    def _prune(self) -> None:
        keep_from = min(self.acked, self.seq - KEEP)
        if self.entries and self.entries[0]["seq"] <= keep_from:
            del self.entries[: keep_from - self.entries[0]["seq"] + 1]

    async def close(self) -> None:
        """End the streams and close the file."""
        self.closed = True
        self._wake()
        self._file.close()


class Host:
    """One agent's turn, its permission requests and its journal; the socket's requests and
    the driver's callbacks call it."""

    def __init__(self, agent: str, journal: Journal, cumulative_usage: bool = False) -> None:
        self.agent = agent
        self.journal = journal
        self.cumulative_usage = cumulative_usage  # a turn end's usage: its session's so far
        self.driver: Driver | None = None
        self.turn: asyncio.Task[None] | None = None
        self.delivery: int | None = None
        self.taken: set[int] = set()
        self.updates = 0  # updates of the current turn
        self.accepted = asyncio.Event()
        self.pending: dict[int, asyncio.Future[str | None]] = {}
        # the requests' numbers go on from this host's start (milliseconds): a host started
        # again on the same session (``session/load``) never reuses an earlier one's number,
        # which swarm took as a request it had seen (no prompt opened: the agent waited)
        self.asked = time.time_ns() // 1_000_000
        self.exit_code: int | None = None
        self.stopping = asyncio.Event()
        self._ending = False
        self.lost: str | None = None  # the saved session the open one replaced (not loaded)
        self.bad_lines = 0  # lines the agent wrote that were not said yet
        self._bad_line_next = 0.0
        self._bad_line_last = ""
        self._bad_line_flush: asyncio.Task[None] | None = None
        self.ended_output: asyncio.subprocess.Process | None = None  # its output closed
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def session(self) -> str | None:
        """The agent's session now."""
        return self.driver.session if self.driver is not None else None

    # the agent's side (the driver's callbacks)

    async def ask(
        self, title: str, kind: str, tool: Any, options: list[dict[str, str]]
    ) -> str | None:
        """A permission request: journaled, then answered with swarm's choice (an option's
        id; None: cancelled)."""
        self.asked += 1
        number = self.asked
        request = f"{self.session}#{number}"
        self.accepted.set()  # a request of the turn: the agent took its prompt
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        asked = PermissionAsked(
            request, title, kind, tool if isinstance(tool, Mapping) else {},
            tuple(RequestOption(str(o.get("id") or ""), str(o.get("name") or ""),
                                str(o.get("kind") or "")) for o in options),
            delivery=self.delivery,
        )  # fmt: skip
        self.journal.add(asked.TYPE, **asked.fields())
        try:
            chosen = await future
        finally:
            self.pending.pop(number, None)
        picked = next((o for o in asked.options if o.id == chosen), RequestOption("", ""))
        done = PermissionDone(request, chosen, picked.name, picked.kind)
        self.journal.add(done.TYPE, **done.fields())
        return chosen

    def on_update(self, kind: str, **words: Any) -> None:
        """One update of the agent's: journaled; the first of a turn accepts its prompt. One
        that comes while no turn runs is marked ``outside`` (a loaded session's history, which
        Gemini CLI replays after ``session/load``: no work of the agent's now)."""
        running = self.turn is not None and not self.turn.done()
        if not running:
            words["outside"] = True
        self.journal.add(wire.UPDATE, session=self.session, kind=kind, **words)
        if running:
            self.updates += 1
            self.accepted.set()

    def on_bad_line(self, why: str) -> None:
        """A line the agent wrote that its protocol cannot take: journaled as an
        ``agent_error`` (at most one each ``BAD_LINE_S``, with how many came since the last
        said) and logged; the connection goes on. Those held back are said once the second
        is over, the last of them named, so none is only counted and never said."""
        self.bad_lines += 1
        self._bad_line_last = why
        now = time.monotonic()
        if now < self._bad_line_next:
            if self._bad_line_flush is None or self._bad_line_flush.done():
                wait = self._bad_line_next - now
                self._bad_line_flush = asyncio.get_running_loop().create_task(
                    self._say_bad_lines(wait)
                )
            return
        self._bad_line_next = now + BAD_LINE_S
        self._journal_bad_lines()

    async def _say_bad_lines(self, wait: float) -> None:
        await asyncio.sleep(wait)
        if self.bad_lines:
            self._bad_line_next = time.monotonic() + BAD_LINE_S
            self._journal_bad_lines()

    def _journal_bad_lines(self) -> None:
        why = self._bad_line_last
        log.warning("host %s: the agent wrote %s (%d line(s))", self.agent, why, self.bad_lines)
        self.journal.add(wire.AGENT_ERROR, message=f"the agent wrote {why}", lines=self.bad_lines)
        self.bad_lines = 0

    def on_output_end(self, process: asyncio.subprocess.Process) -> None:
        """The agent ``process`` closed its output: while it is the agent's process, a
        prompt can no longer be taken (``prompt`` says so); one that runs on is journaled
        as a host error (an exit is said by ``watch_exit``; a process the driver replaced,
        as Claude Code's for a session it could not resume, is none of these)."""
        self.ended_output = process
        task = asyncio.get_running_loop().create_task(self._said_output_end(process))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def output_ended(self) -> bool:
        """Whether the agent's process now is one whose output ended."""
        process = self.driver.process if self.driver is not None else None
        return process is not None and process is self.ended_output

    async def _said_output_end(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), OUTPUT_END_S)
            return
        if not self.output_ended:
            return  # replaced meanwhile
        self.journal.add(wire.HOST_ERROR, message=(
            f"the agent closed its output but runs on (pid {process.pid}): nothing more can "
            "come from it (swarm desktop down, then up, starts it again)"
        ))  # fmt: skip

    def saved_session(self) -> str | None:
        """The session the host had before (to load it again), if any."""
        path = _session_file(self.journal.path)
        return path.read_text(encoding="utf-8").strip() or None if path.is_file() else None

    def session_spent(self, session: str) -> float:
        """``session``'s running total cost (Claude Code's) as its last turn's end said: kept
        beside the journal (``spent_path``), else read from the journal (a host from before
        it was kept); 0 when none did."""
        kept = _kept_spent(wire.spent_path(self.journal.path), session)
        if kept is not None:
            return kept
        spent, current = 0.0, None
        for entry in journal_file.entries(self.journal.path):
            meta = entry.get("meta")
            if entry.get("type") == wire.SESSION:
                current = entry.get("session")
            elif (
                entry.get("type") == wire.TURN_END and current == session and isinstance(meta, dict)
            ):
                spent = float(meta.get(TOTAL_COST, spent))
        return spent

    def on_session(self, session: str, loaded: bool, lost: str | None = None) -> None:
        """A session opened: kept for a restart of the host, journaled (``lost``: the
        session the host had, which the agent could not load or resume: its conversation
        is not in the new one)."""
        files.write_file(_session_file(self.journal.path), session.encode())
        self.lost = lost
        self.journal.add(wire.SESSION, session=session, loaded=loaded, **self.said_lost())

    def said_lost(self) -> dict[str, str]:
        """``lost`` for a journal entry of the session, when the open one replaced another."""
        return {"lost": self.lost} if self.lost else {}

    # swarm's side (the socket's requests)

    async def prompt(self, delivery: int, text: str) -> dict[str, Any]:
        """Send a prompt; answer once the agent accepted it."""
        if delivery in self.taken:
            return {"ok": True, "again": True}
        if self.exit_code is not None:
            return {"ok": False, "reason": f"the agent exited ({self.exit_code})", "gone": True}
        if self.output_ended:
            why = "the agent closed its output: nothing can reach it on its protocol"
            return {"ok": False, "reason": why, "gone": True}
        if self.session is None:
            return {"ok": False, "reason": "the agent's session is not open yet", "busy": True}
        if self.turn is not None and not self.turn.done():
            why = f"a turn is running (delivery {self.delivery})"
            return {"ok": False, "reason": why, "busy": True}
        self.taken.add(delivery)
        self.delivery, self.updates = delivery, 0
        self.accepted = asyncio.Event()
        self.journal.add(wire.TURN, delivery=delivery, chars=len(text), text=text)
        self.turn = asyncio.get_running_loop().create_task(self._turn(delivery, text))
        waiting = asyncio.get_running_loop().create_task(self.accepted.wait())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait(
                {waiting, self.turn}, timeout=ACCEPT_S, return_when="FIRST_COMPLETED"
            )
        waiting.cancel()
        return {"ok": True, "updates": self.updates, "ended": self.turn.done()}

    async def _turn(self, delivery: int, text: str) -> None:
        assert self.driver is not None
        try:
            ended = await self.driver.prompt(text)
        except TurnFailed as exc:
            self.journal.add(wire.TURN_ERROR, delivery=delivery, code=exc.code,
                             message=str(exc), data=_jsonable(exc.data))  # fmt: skip
            return
        except Exception as exc:  # the connection broke: the process is gone or talks nonsense
            self.journal.add(wire.TURN_ERROR, delivery=delivery, code=None, message=repr(exc))
            return
        finally:
            self.accepted.set()
        usage, so_far = self._turn_usage(ended)
        self.journal.add(
            wire.TURN_END, delivery=delivery, stop_reason=ended.stop_reason, usage=usage,
            cost_usd=ended.cost_usd, meta=_jsonable(ended.meta), **so_far,
        )  # fmt: skip
        if so_far and self.session is not None:
            running_usage.keep(self.journal.path, self.session, so_far[wire.SESSION_USAGE])
        total = ended.meta.get(TOTAL_COST) if isinstance(ended.meta, dict) else None
        if self.session is not None and isinstance(total, int | float):
            kept = {"session": self.session, TOTAL_COST: float(total)}
            files.write_file(wire.spent_path(self.journal.path), wire.encode(kept))

    def _turn_usage(self, ended: Ended) -> tuple[Any, dict[str, Any]]:
        """A turn end's usage, the turn's own: where the agent says its session's running
        total (``cumulative_usage``), what the turn added to it, with the total as said."""
        if not self.cumulative_usage or not isinstance(ended.usage, dict) or not self.session:
            return ended.usage, {}
        before = running_usage.before(self.journal.path, self.session)
        usage = running_usage.turn_usage(ended.usage, before)
        return usage, {wire.SESSION_USAGE: ended.usage}

    def answer(self, answer: Answer) -> dict[str, Any]:
        """Answer a waiting permission request with its option (None: cancelled)."""
        session, _, number = answer.request.rpartition("#")
        future = self.pending.get(int(number)) if number.isdigit() else None
        if session != self.session or future is None or future.done():
            return {"ok": False, "reason": f"no permission request {answer.request} waits"}
        future.set_result(answer.option)
        return {"ok": True}

    async def cancel(self) -> dict[str, Any]:
        """Cancel the running turn; every waiting request is answered cancelled."""
        self._cancel_requests()
        running = self.turn is not None and not self.turn.done()
        if running and self.driver is not None:
            await self.driver.cancel()
        return {"ok": True, "running": running}

    def _cancel_requests(self) -> None:
        for future in list(self.pending.values()):
            if not future.done():
                future.set_result(None)

    async def new_session(self) -> dict[str, Any]:
        """A new session (the agent's context cleared); refused while a turn runs."""
        if self.turn is not None and not self.turn.done():
            return {"ok": False, "reason": f"a turn is running (delivery {self.delivery})",
                    "busy": True}  # fmt: skip
        assert self.driver is not None
        await self.driver.new_session()
        return {"ok": True, "session": self.session}

    def hello(self) -> dict[str, Any]:
        """Who and where the host is."""
        process = self.driver.process if self.driver is not None else None
        return {
            "ok": True, "agent": self.agent, "pid": os.getpid(),
            "agent_pid": process.pid if process else None, "session": self.session,
            "busy": self.turn is not None and not self.turn.done(), "delivery": self.delivery,
            "seq": self.journal.seq, "acked": self.journal.acked, "exit_code": self.exit_code,
        }  # fmt: skip

    async def watch_exit(self) -> None:
        """Journal the agent's exit (the host stays, so swarm reads why, until stopped)."""
        assert self.driver is not None and self.driver.process is not None
        self.exit_code = await self.driver.process.wait()
        self._cancel_requests()
        self.journal.add(wire.EXITED, code=self.exit_code)

    async def stop(self) -> None:
        """End the agent, what it started, and this host (once)."""
        if self.stopping.is_set() or self._ending:
            return
        self._ending = True
        process = self.driver.process if self.driver is not None else None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 5)
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        if self.driver is not None:
            await self.driver.close()
        _end_group()
        self.stopping.set()


def _end_group() -> None:
    """Terminate what the agent left in the host's process group (an npm wrapper's native
    binary outlives the wrapper); only where the host leads its group (``launch`` starts it
    in a session of its own). The host's own SIGTERM handler finds it ending already."""
    if os.getpgrp() == os.getpid():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgrp(), signal.SIGTERM)


def private_file(path: Path) -> BinaryIO:
    """``path`` opened to append, readable by its owner alone (0600, also when it was
    made before with another mode): a journal holds the agent's words and diffs."""
    handle = files.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.fchmod(handle, files.FILE_MODE)
    return os.fdopen(handle, "ab")


def _kept_spent(path: Path, session: str) -> float | None:
    """The running total kept for ``session`` (None: none kept for it)."""
    try:
        kept = wire.decode(path.read_bytes())
    except (OSError, ValueError):
        return None
    total = kept.get(TOTAL_COST)
    if kept.get("session") != session or not isinstance(total, int | float):
        return None
    return float(total)


def _session_file(journal: Path) -> Path:
    return journal.with_suffix(wire.SESSION_SUFFIX)  # as wire.session_path names it


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


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
                try:
                    request = wire.decode(line)
                except ValueError as exc:
                    writer.write(wire.encode({"ok": False, "reason": f"bad request: {exc}"}))
                    continue
                if request.get("op") == wire.EVENTS:
                    await self._stream(writer, int(request.get("after") or 0))
                    return
                writer.write(wire.encode(await self._answer(request)))
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
            line = await asyncio.wait_for(reader.readline(), REFUSE_READ_S)
        op = callers.op_of(line)
        now = time.monotonic()
        next_at, times = self._refused.get(pid, (0.0, 0))
        if now < next_at:
            self._refused[pid] = (next_at, times + 1)
        else:  # said before it is answered: a caller that is gone hears nothing
            self._refused[pid] = (now + BAD_LINE_S, 0)
            log.warning("host %s: refused %s from pid %s: %s", self.host.agent, op, pid, why)
            self.host.journal.add(wire.REFUSED, op=op, pid=pid, why=why, times=times + 1)
        writer.write(wire.encode({"ok": False, "reason": f"refused: {why}", "refused": True}))
        await writer.drain()

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        host, op = self.host, request.get("op")
        try:
            if op == wire.HELLO:
                return host.hello()
            if op == wire.PROMPT:
                return await host.prompt(int(request["delivery"]), str(request["text"]))
            if op == Answer.OP:
                return host.answer(Answer.read(request))
            if op == wire.CANCEL:
                return await host.cancel()
            if op == wire.NEW_SESSION:
                return await host.new_session()
            if op == wire.ACK:
                host.journal.ack(int(request["seq"]))
                return {"ok": True}
            if op == wire.STOP:
                await host.stop()
                return {"ok": True}
        except (KeyError, TypeError, ValueError) as exc:
            return {"ok": False, "reason": f"bad {op} request: {exc!r}"}
        except Exception as exc:  # the agent's connection failed: said, the host goes on
            log.exception("host %s: %s failed", host.agent, op)
            return {"ok": False, "reason": f"{op} failed: {exc!r}"}
        return {"ok": False, "reason": f"unknown op {op!r}"}

    async def _stream(self, writer: asyncio.StreamWriter, after: int) -> None:
        journal = self.host.journal
        sent = after
        while not journal.closed:
            for entry in journal.after(sent):
                writer.write(wire.encode(entry))
                sent = entry["seq"]
            await writer.drain()
            await journal.wait_after(sent)


async def run(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Start the agent, serve the socket until ``stop`` or a signal; the exit code."""
    home = Path(args.home)
    files.make_dirs(wire.folder(home))
    sock = wire.socket_path(home, args.agent)
    journal_file.rotate(wire.journal_path(home, args.agent))
    journal = Journal(wire.journal_path(home, args.agent))
    host = Host(args.agent, journal, cumulative_usage=args.cumulative_usage)
    mcp = json.loads(args.mcp) if args.mcp else []
    launched = Launched(host, args.command, args.cwd, mcp, env, nice=args.nice)
    host.driver = _driver(args.protocol, launched)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(host.stop()))
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    serving = Server(host)
    server = await asyncio.start_unix_server(serving.serve, path=str(sock), limit=wire.LINE_LIMIT)
    os.chmod(sock, 0o600)
    try:
        await asyncio.wait_for(host.driver.start(), START_S)
    except Exception as exc:
        journal.add(wire.HOST_ERROR, message=f"the agent did not start: {_why(exc)}")
        log.exception("host %s: the agent did not start", args.agent)
        await host.stop()
        server.close()
        await journal.close()
        return 1
    journal.add(wire.READY, session=host.session, pid=host.hello()["agent_pid"], **host.said_lost())
    exit_watch = loop.create_task(host.watch_exit())
    await host.stopping.wait()
    exit_watch.cancel()
    server.close()
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    await journal.close()
    await serving.close()
    return 0


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename} is not installed (not found)"
    if isinstance(exc, asyncio.TimeoutError):
        return f"no session within {START_S:g} s"
    return repr(exc)


def _driver(protocol: str, launched: Launched) -> Driver:
    own = clis.own_driver(protocol)
    if own is not None:
        return own(launched)
    from automation.protocol.acp_driver import AcpDriver  # the ACP SDK, only where spoken

    return AcpDriver(launched)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The host's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bot.protocol_host", description=__doc__)
    parser.add_argument("--home", required=True, help="SWARM_HOME (its hosts/ folder)")
    parser.add_argument("--agent", required=True, help="the agent's id")
    parser.add_argument("--cwd", required=True, help="the agent's workspace")
    parser.add_argument("--mcp", default="", help="MCP servers for the session, as JSON")
    parser.add_argument(
        "--protocol",
        choices=clis.protocols(),
        default=ACP,
        help="what the agent speaks (ACP; Claude Code's stream-json)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        choices=range(20),
        metavar="0-19",
        help="how much lower the agent's CPU priority is than the host's (default 0)",
    )
    parser.add_argument(
        "--cumulative-usage",
        action="store_true",
        help="the agent's turn end says its session's running usage: journal each turn's own",
    )
    parser.add_argument("command", nargs="+", help="the agent CLI in its ACP mode")
    return parser.parse_args(argv)
