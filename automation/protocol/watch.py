"""The PROTOCOL signal: each protocol agent's host journal, read as it comes.

A Timer of the scheduler loop (and of ``swarm node`` for its agents), handed to the node by
the composition root (``core.protocols.HostJournals``). One reader task per protocol agent
streams its host's journal from the entry on record (``core.watch.protocol_intake.cursor``)
and wakes the loop; ``fire`` writes what came, each agent's entries as one transaction
(``protocol_intake.take_in``), then tells the host how
far swarm has it (``ack``: the host may forget the rest). A host that cannot be reached makes
its agent ``offline`` with the reason, once, and is tried again every ``RETRY_S``, or at
once when a host binds the agent's socket anew (``swarm desktop up`` started one).

What a CLI retries without a word on its protocol (Gemini CLI's 429s and 5xx over ACP) is
read from the debug log swarm names when it starts the agent (``core.clis.logs``), as the
text watcher reads it for a tmux pane; opencode's from its own log in the agent's
``cli_dir``, shared by every opencode process of its user (never emptied), each line taken
only for the session the agent's host has open. Each retry found is taken in as the
journal's own ``api_retry`` update (``limited`` until the retry, or ``errored``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from core.agent_state import AgentState
from core.agents import Freshness
from core.clis import by_name
from core.clis.base import SessionLog
from core.clis.logs import LogFinding, LogReader, LogTail, log_path
from core.hosts import client, journal_file, running, wire
from core.hosts import entries as host_entries
from core.hosts.entries import Entry, ReaderFailed, Unreachable, Update
from core.hosts.turns import API_RETRY
from core.models import Agent
from core.service.swarm import SwarmService
from core.waits import Background, Gathered, cancel_all
from core.watch import protocol_intake

log = logging.getLogger(__name__)
RETRY_S = 2.0  # between two tries to reach a host
LOOK_S = 0.1  # how often a host's socket is looked at meanwhile (a new one: tried at once)
SYNC_S = 1.0  # how often the readers are matched to the agents file
BATCH = 500  # entries of one agent written in one transaction at most
# entries of one agent read and not yet written, at most: a journal of 300,000 updates read
# at start (swarm stopped meanwhile) waits in the host, not in swarm's memory
PENDING_MAX = 4 * BATCH
LOG_S = 0.5  # how often the CLIs' debug logs are read (fire runs at every journal entry)
TURN_OVER = protocol_intake.TURN_OVER
GATHER_S = 0.1  # a stream's updates wake the writer at most this often (one transaction)


class ProtocolWatch:
    """A Timer: the protocol agents' journals into the store."""

    def __init__(
        self,
        service: SwarmService,
        fresh: Freshness,
        node: str | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.fresh = fresh
        self.node = node
        self.wake = wake or (lambda: None)
        self.readers: dict[str, asyncio.Task[None]] = {}
        self.pending: dict[str, list[Entry]] = {}  # each entry read once, as it came
        self.hosts: dict[str, int] = {}  # agent -> its host's pid, as its hello said
        self._next_sync = 0.0
        self._tails: dict[tuple[str, str | None, str | None], LogTail | None] = {}
        self._turn_over_at: dict[str, float] = {}  # agent -> its journal's last turn end
        self._next_log = 0.0
        self._acks: dict[str, int] = {}  # agent -> the entry to acknowledge next
        self._acking: dict[str, asyncio.Task[None]] = {}  # agent -> its acknowledgement
        self._tasks = Background("protocol watch")  # the readers and the acknowledgements
        self._looked: dict[str, tuple[int, int, int, tuple[int, float]]] = {}  # journal files
        self._gathered = Gathered(GATHER_S, lambda: self.wake())
        # agents whose host said their turn ended, not yet written: their prompts may go
        # (``turn_heard_over``), and ``turn_ended`` (the node's) is told at once
        self.ended_unwritten: set[str] = set()
        self.turn_ended: Callable[[str], None] = lambda agent: None

    def agents(self) -> list[Agent]:
        """The protocol agents this process serves."""
        return [a for a in self.service.agents.values()
                if a.delivery == "protocol" and a.node == self.node]  # fmt: skip

    async def start(self) -> None:
        """Start a reader for each protocol agent; what their logs hold now is old news."""
        self._sync()
        self._read_logs()

    async def next_due(self) -> float | None:
        """Now when entries wait; else the next match of readers to agents."""
        now = self.service.clock.now()
        if any(self.pending.values()):
            return now
        return self._next_sync if self.readers or self.agents() else None

    async def fire(self) -> int:
        """Write the entries that came; how many. A turn's end is on the path of the agent's
        next prompt (its deferred deliveries go once it is written): the agents whose entries
        end a turn go first, their writes ahead of the node's others (``urgent``), also one
        whose end came while the others were written. The hosts are told how far swarm has
        their journals on the side (an answer is no reason to wait)."""
        self._sync()
        self._read_logs()
        taken = 0
        written: set[str] = set()  # each agent once a round: what came since waits for the next
        while (agent := self._next_to_write(written)) is not None:
            written.add(agent)
            entries, self.pending[agent] = self.pending[agent][:BATCH], self.pending[agent][BATCH:]
            host = self.hosts.get(agent, 0)
            for entry in entries:
                if entry.type in TURN_OVER:
                    self._turn_over_at[agent] = entry.at
            last = await self._write(agent, host, entries)
            if not _ends_with_turn_over(self.pending.get(agent) or []):
                self.ended_unwritten.discard(agent)  # written (or a turn began since)
            taken += len(entries)
            if host:
                self._ack(agent, last)
        return taken

    async def _write(self, agent: str, host: int, entries: list[Entry]) -> int:
        """Take ``entries`` in (one transaction); the last one's number. A batch that fails
        is taken in one entry at a time, and an entry that fails alone is taken in as what
        failed (its number, an error in the agent's state): nothing else is lost with it and
        the journal's reading goes on."""
        try:
            return await self._take_in(agent, host, entries)
        except Exception:
            log.exception("protocol: %s's entries could not be taken in together", agent)
        last = 0
        for entry in entries:
            try:
                last = await self._take_in(agent, host, [entry])
            except Exception as exc:
                log.exception("protocol: %s's entry %s could not be taken in", agent, entry.seq)
                failed = _failed_entry(entry, exc)
                last = await self._take_in(agent, host, [failed])
        return last

    async def _take_in(self, agent: str, host: int, entries: list[Entry]) -> int:
        return await protocol_intake.take_in(self.service, agent, host, entries, self.fresh)

    def _next_to_write(self, written: set[str]) -> str | None:
        """The next agent with entries waiting, one whose entries end a turn first."""
        waiting = [a for a, entries in self.pending.items() if entries and a not in written]
        ending = [a for a in waiting if protocol_intake.ends_turn(self.pending[a][:BATCH])]
        first = ending or waiting
        return first[0] if first else None

    def _ack(self, agent: str, seq: int) -> None:
        """Tell ``agent``'s host swarm has its journal up to ``seq``, in a task of its own
        (one at a time per agent: the latest number goes next)."""
        self._acks[agent] = max(seq, self._acks.get(agent, 0))
        running = self._acking.get(agent)
        if running is None or running.done():
            self._acking[agent] = self._tasks.start(self._acked(agent), name=f"ack:{agent}")

    async def _acked(self, agent: str) -> None:
        sent = 0
        while (seq := self._acks.get(agent, 0)) > sent:
            with contextlib.suppress(client.HostUnreachable):
                await client.ack(self.service.settings.home, agent, seq)
            sent = seq

    def _read_logs(self) -> None:
        """Each agent's CLI debug log since the last look (of a CLI that writes one swarm
        reads): its newest retry, as an ``api_retry`` update of its journal, in its time's
        place among the entries not yet written; one older than the turn's end the journal
        said is no news (the turn is over)."""
        now = self.service.clock.now()
        if now < self._next_log and self._tails:
            return  # read at most every LOG_S, not at each of a busy journal's entries
        self._next_log = now + LOG_S
        for agent in self.agents():
            key = (agent.id, agent.cli, agent.cli_dir)  # may change when the file is reloaded
            if key not in self._tails:
                self._tails[key] = self._tail(agent)
            tail = self._tails[key]
            finding = tail.read() if tail is not None else None
            if finding is not None and finding.at > self._turn_over_at.get(agent.id, 0.0):
                _insert_by_time(self.pending.setdefault(agent.id, []), _retry_entry(finding))

    def heard(self, entry: Entry, agent: str | None = None) -> None:
        """Wake the writer for an entry that came: at once for one that something waits on
        (a turn's start or end, a permission request, the session, the host's end), and
        once per ``GATHER_S`` for a stream's updates (its chunks, tool calls, plans), so
        those written together are one transaction, not one each. A turn's end of
        ``agent`` is told to ``turn_ended`` too: its next prompt need not wait for the
        write (the host takes it now)."""
        if agent is not None:
            if entry.type in TURN_OVER:
                self.ended_unwritten.add(agent)
                self.turn_ended(agent)
            elif entry.type == wire.TURN:
                self.ended_unwritten.discard(agent)  # the next turn began
        if entry.type != wire.UPDATE:
            self.wake()
        else:
            self._gathered.soon()

    def _tail(self, agent: Agent) -> LogTail | None:
        """The reading of ``agent``'s CLI's log: the debug log swarm named, else its own log
        in its ``cli_dir`` (only read), for the session its host has open; None: none."""
        cli = by_name(agent.cli)
        home = self.service.settings.home
        if cli is not None and cli.log_reader is not None:
            return LogTail(log_path(home, agent.id), cli.log_reader)
        if cli is None or cli.session_log is None or not agent.cli_dir:
            return None
        reader = _session_reader(cli.session_log, home, agent.id)
        return LogTail(cli.session_log.path(Path(agent.cli_dir)), reader, keep_bytes=None)

    async def stop(self) -> None:
        """Stop the readers and the acknowledgements (the hosts keep what comes meanwhile,
        and what was not acknowledged: swarm's cursor skips what it has)."""
        self._gathered.cancel()
        await cancel_all([*self.readers.values(), *self._acking.values()])
        self.readers.clear()
        self._acking.clear()

    def _sync(self) -> None:
        now = self.service.clock.now()
        if now < self._next_sync and self.readers:
            return
        self._next_sync = now + SYNC_S
        wanted = {a.id for a in self.agents()}
        for agent in set(self.readers) - wanted:
            self.readers.pop(agent).cancel()
            self.ended_unwritten.discard(agent)
        ended = {a for a, task in self.readers.items() if task.done()}  # never, but said so
        for agent in (wanted - set(self.readers)) | (ended & wanted):
            self.readers[agent] = self._tasks.start(self._read(agent), name=f"protocol:{agent}")

    async def _read(self, agent: str) -> None:
        """Stream ``agent``'s journal into ``pending``, reconnecting while swarm runs; why
        the host cannot be reached is said each time it changes (a host killed a moment ago
        refuses, or ends its stream, before its process is gone: it is not running as soon
        as the process is gone)."""
        home = self.service.settings.home
        said: str | None = None
        while True:
            socket, dying = _socket_mark(home, agent), False
            try:
                host = (await client.hello(home, agent)).pid or 0
                known_host, seq = await self._caught_up(agent, host)
                self.hosts[agent], said = host, None
                async for entry in client.stream(home, agent, seq if known_host == host else 0):
                    self.pending.setdefault(agent, []).append(entry)
                    self.heard(entry, agent)
                    while len(self.pending.get(agent) or ()) >= PENDING_MAX:  # fire drains it
                        self.wake()
                        await asyncio.sleep(GATHER_S)
                dying = True  # its stream ended: the host is ending, or ended (killed)
            except (client.HostUnreachable, OSError) as exc:  # gone, or its stream broke
                gone = running.host_pid(home, agent) is None
                if gone:
                    await self._caught_up(agent, 0)
                dying = not gone  # refused or broke, its process still there: soon gone
                why = _why(home, agent, exc)
                if why != said:
                    said, self.hosts[agent] = why, 0
                    self._said(agent, Unreachable(message=why[:500], gone=gone))
            except Exception as exc:  # anything else: said, and read again (never wedged)
                why = f"swarm's reading of its host failed ({exc!r}): read again in {RETRY_S:g} s"
                if why != said:
                    log.exception("protocol: reading %s's host failed", agent)
                    said, self.hosts[agent] = why, 0
                    self._said(agent, ReaderFailed(message=why[:500]))
            await _socket_changed(home, agent, socket, RETRY_S, dying)

    async def _caught_up(self, agent: str, running: int) -> tuple[int, int]:
        """Swarm's cursor of ``agent``'s journal once what its hosts journaled and swarm
        never read is taken in from the journal files (``journal_file.unread``: a host that
        died, or was replaced, while swarm was stopped; ``running``: the host now running,
        0: none): each life with its host's pid, after the entries already waiting. The
        files are read again only when they or the cursor changed."""
        known_host, seq = await protocol_intake.cursor(self.service, agent)
        if known_host == running:
            return known_host, seq
        home = self.service.settings.home
        key = (known_host, seq, running, _journal_mark(home, agent))
        if self._looked.get(agent) == key:
            return known_host, seq
        self._looked[agent] = key
        lives = await asyncio.to_thread(journal_file.unread, home, agent, known_host, seq, running)
        for life in lives:
            while self.pending.get(agent):  # noqa: ASYNC110 (written by fire, in its turn)
                await asyncio.sleep(GATHER_S)
            log.info("protocol: %s: %d entries of host %s read from its journal file",
                     agent, len(life.entries), life.host)  # fmt: skip
            await self._write(agent, life.host or 0, life.entries)
        if not lives:
            return known_host, seq
        return await protocol_intake.cursor(self.service, agent)

    def _said(self, agent: str, why: Unreachable | ReaderFailed) -> None:
        """Why ``agent``'s host is not read, as an entry of its own (not the host's)."""
        self.pending.setdefault(agent, []).append(host_entries.of(why))
        self.wake()


def _socket_mark(home: Path, agent: str) -> tuple[int, int] | None:
    """The host socket's inode and time of change (None: none): a host that binds it anew
    makes another."""
    try:
        found = wire.socket_path(home, agent).lstat()
    except OSError:
        return None
    return found.st_ino, found.st_ctime_ns


async def _socket_changed(
    home: Path, agent: str, mark: tuple[int, int] | None, within: float, dying: bool
) -> None:
    """Back once the host's socket is not the one ``mark`` read (a new host listens), or
    (``dying``: a host that refused while its process ran) once that process is gone, or
    after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(LOOK_S)
        now = _socket_mark(home, agent)
        if now is not None and now != mark:
            return
        if dying and running.host_pid(home, agent) is None:
            return  # killed: said "not running" now, not at the next try


def _journal_mark(home: Path, agent: str) -> tuple[int, float]:
    """The journal file's size and time of change (0, 0.0: none)."""
    try:
        found = wire.journal_path(home, agent).stat()
    except OSError:
        return 0, 0.0
    return found.st_size, found.st_mtime


def _failed_entry(entry: Entry, exc: Exception) -> Entry:
    """An entry swarm could not take in, as an error of its reading (its number kept: it is
    not read again)."""
    what = f"{entry.type} entry {entry.seq}"
    message = f"swarm could not take in its host's {what}: {exc!r}"[:500]
    return host_entries.of(ReaderFailed(message=message), entry.seq, entry.at)


def _ends_with_turn_over(pending: list[Entry]) -> bool:
    """Whether the last of ``pending`` (those not yet written) ends a turn."""
    return bool(pending) and pending[-1].type in TURN_OVER


def _session_reader(log: SessionLog, home: Path, agent: str) -> LogReader:
    """``log``'s reading of the lines of the session ``agent``'s host has open (as its
    session file says at each read: a reset opens another); no session known, none."""

    def read(lines: Sequence[str]) -> LogFinding | None:
        session = wire.host_session(home, agent)
        return log.reader(lines, session) if session else None

    return read


def _retry_entry(finding: LogFinding) -> Entry:
    """A retry the CLI's log said, as the journal's ``api_retry`` update says one."""
    limited = finding.state is AgentState.LIMITED
    until = finding.until if finding.until is not None else finding.expires
    words = {
        "error_status": 429 if limited else None, "error": f"its log: {finding.line}",
        "retry_delay_ms": max(0.0, until - finding.at) * 1000,  # the retry, or its news' end
    }  # fmt: skip
    return host_entries.of(Update(kind=API_RETRY, words=words), at=finding.at)


def _insert_by_time(pending: list[Entry], entry: Entry) -> None:
    """``entry`` before the first of ``pending`` dated after it (a turn's end the host wrote
    after the retry the log said comes after it)."""
    place = next((i for i, e in enumerate(pending) if e.at > entry.at), None)
    pending.insert(len(pending) if place is None else place, entry)


def _why(home: Path, agent: str, exc: Exception) -> str:
    """Why ``agent``'s host cannot be reached, in words a person acts on."""
    if running.host_pid(home, agent) is None:
        return (
            f"{agent}'s protocol host is not running (swarm desktop up --protocol starts it "
            "again, the agent's session loaded where its CLI can)"
        )
    if isinstance(exc, client.HostUnreachable):
        return str(exc)
    return f"{agent}'s protocol host's journal stream broke: {exc!r}"
