"""The agents' turns read from their CLIs' own files into the cost ledger: each
CLI's session files (an AgentCli's ``sessions``: Claude Code's transcripts, Codex's rollouts)
for its agents on the tmux and desktop routes, in the CLI's folder of swarm's environment
(``Settings.cli_dirs``), and on the protocol route for a CLI whose protocol gives no turn
usage, or less than the turn's (``AgentCli.protocol_usage = "sessions"``: Codex through
codex-acp, Gemini CLI, opencode), in the folder its host runs it with (the agent's
``cli_dir``; not known: its turns are of unknown cost, ``core.costs.turns``). An agent whose
command is a wrapper script (``cli_dir = ""``) has its CLI's process looked for under its
pane, window or host at each tick until one is found, and the folder that process names
read (``core.costs.followed``). Read at each watch tick.

The session files there at an agent's first look are read to their end without recording
anything (their past turns were not swarm's to count, and have no task); a file that appears
later is a session started while swarm watched, read from its start. Only the turns that end
after its first read are recorded, each with the task the agent held when the turn began
(the time its file gives: ``core.tasks._queries.held_at``), not the one it holds when the
file is read (an agent that reports its task done inside a turn holds its next one by
then); a turn whose file gives no time is on no task. On the tmux and desktop routes a
workspace's session files may be another process's (the person's own CLI run in the
worktree): once an agent's own hooks named a session (``core.agents._session_queries``), its
turns are charged from the sessions they named only; a turn of another session waits
``NAMING_WAIT_S`` for a hook to name it (a hook may come after the turn's end is written),
then is not charged, said in the log and as an event (``usage.not_charged``). After a restart
the files are seen anew: turns that ended while swarm was stopped are not counted, but for
a protocol agent's, whose host's session is read from its start at the first look (each of
its turns is one swarm's host ran; one recorded before is not recorded again).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path

from core.agents import Resolver, session_queries
from core.clis import by_name
from core.clis.base import RefusingReader, SessionFiles, UsageReader, UsageTurn
from core.context import Ctx
from core.costs import budgets, followed, ledger, prices
from core.costs import turns as turn_cost
from core.hosts import wire
from core.models import Agent
from core.store.access import StoreAccess
from core.store.conn import Conn
from core.tasks import held_at
from core.waits import in_own_thread, within
from core.watch.wire_usage import WireUsage

log = logging.getLogger(__name__)
ROUTES = ("tmux", "gui")  # and the protocol route where its CLI's files give the usage
PROTOCOL = "protocol"
_UNREAD = object()
MAX_FILES = 20  # the newest session files of one agent read at each tick
NAMING_WAIT_S = 600.0  # how long a turn of a session its agent's hooks did not name waits
UNNAMED_LIMIT = 500  # turns of unnamed sessions kept waiting per agent (the oldest go first)
READ_S = 10.0  # one agent's files read at most this long in a tick; the rest at the next
OUTSIDE = "reached through a link out of its sandboxed CLI's folder (its to write): not read"


class UsageFiles:
    """Each agent's session files (of a CLI that writes some), read where the last look
    stopped."""

    def __init__(self, store: StoreAccess) -> None:
        self.store = store
        self.readers: dict[tuple[Path, str], UsageReader] = {}  # (file, workspace)
        self.looked: set[tuple[Path, str]] = set()  # (CLI's folder, workspace) listed once
        self.cwds: dict[Path, str] = {}  # a shared folder's file -> the cwd it says
        self.prices: object = _UNREAD  # the price file's version the turns were priced at
        self.unnamed: dict[str, list[tuple[float, UsageTurn]]] = {}  # agent -> (read at, turn)
        self.wire = WireUsage(store)  # the gateway agents' records (core.watch.wire_usage)
        self.resolver = Resolver({}, store.settings.home)  # the agents' panes, windows, hosts
        self.reading: dict[str, asyncio.Future[list[UsageTurn]]] = {}  # reads that overran
        self.refused: set[tuple[Path, str]] = set()  # files whose refusal was said, by cwd

    async def tick(self) -> int:
        """Record the turns ended since the last tick; how many were new."""
        await self._reprice()
        recorded = 0
        home = self.store.settings.home
        named = await self.store.read(session_queries.named)
        await asyncio.to_thread(self._follow_wrappers)
        for agent in list(self.store.agents.values()):
            cli = by_name(agent.cli)
            config = self._config(agent)
            cwd = await asyncio.to_thread(turn_cost.workspace_of, agent, home)
            await self._hold_if_unreadable(agent)
            if cli is None or cli.sessions is None or config is None or cwd is None:
                continue
            hosts = None if agent.delivery in ROUTES else home
            refusals: list[str] = []  # said by this read, not an overran one's later
            read = functools.partial(
                self._read_folder, cli.sessions, config, cwd,
                wire.host_session(hosts, agent.id) if hosts else None, refusals,
                agent.sandbox is not None,
            )  # fmt: skip
            found = await self._bounded(agent.id, read)
            for why in refusals:
                await self.store.write("swarm", ledger.say_refused, agent.id, why)
            if found is None:
                continue
            if agent.delivery in ROUTES:
                found, gone = self._of_named(agent.id, found, named.get(agent.id, set()))
                if gone:
                    await self.store.write("swarm", ledger.say_not_charged, agent.id, gone)
            if found:
                recorded += await self.store.write(agent.id, _record, agent.id, found)
        return recorded + await self.wire.tick()

    async def _bounded(
        self, agent: str, read: Callable[[], list[UsageTurn]]
    ) -> list[UsageTurn] | None:
        """``read()``'s turns, read in a thread of its own and waited for ``READ_S`` at
        most: the files are in the agent's CLI state, its to write, and a read that blocks
        (a FIFO swapped in between a check and SQLite's own open) would hold every agent's
        tick. None while a read of the agent's runs on (said once as it overran); its turns
        are taken at the first tick after it ends."""
        running = self.reading.pop(agent, None)
        if running is None:
            running = in_own_thread(read, f"usage files of {agent}")
        elif not running.done():
            self.reading[agent] = running
            return None
        try:
            return await within(asyncio.shield(running), READ_S)
        except TimeoutError:
            self.reading[agent] = running
            log.warning("%s: its CLI's files took over %g s to read", agent, READ_S)
            await self.store.write("swarm", ledger.say_overran, agent, READ_S)  # a person's
            return None

    def _of_named(
        self, agent: str, found: list[UsageTurn], named: set[str]
    ) -> tuple[list[UsageTurn], dict[str, int]]:
        """Of the turns read from a tmux or desktop agent's workspace (``found``) and those
        waiting, the ones to charge it: all, while its hooks named no session; else those of
        the sessions they named. The others wait ``NAMING_WAIT_S``, then are dropped (another
        process's session in its workspace): how many turns of each session, to be said."""
        if not named:
            return found, {}
        now = self.store.clock.now()
        waiting = self.unnamed.pop(agent, []) + [(now, turn) for turn in found]
        charged = [turn for _, turn in waiting if turn.session in named]
        kept = [(at, turn) for at, turn in waiting if turn.session not in named]
        gone = [turn for at, turn in kept if now - at >= NAMING_WAIT_S]
        kept = [(at, turn) for at, turn in kept if now - at < NAMING_WAIT_S]
        gone += [turn for _, turn in kept[:-UNNAMED_LIMIT]]
        if kept[-UNNAMED_LIMIT:]:
            self.unnamed[agent] = kept[-UNNAMED_LIMIT:]
        dropped = {s: sum(t.session == s for t in gone) for s in sorted({t.session for t in gone})}
        for session, count in dropped.items():
            log.warning(
                "%s: %d turn(s) of session %s in its workspace not charged to it: its hooks "
                "never named that session (another process's)", agent, count, session[:80],
            )  # fmt: skip
        return charged, dropped

    async def _reprice(self) -> None:
        """At the first tick and whenever the price file changed: the turns of unknown cost
        whose model has a price now are priced (logged with how many)."""
        seen = await asyncio.to_thread(prices.version, self.store.settings.prices_file)
        if seen == self.prices:
            return
        self.prices = seen
        priced = await self.store.write("swarm", ledger.reprice)
        if priced:
            log.info("priced %d turn(s) recorded with no price for their model", priced)

    async def _hold_if_unreadable(self, agent: Agent) -> None:
        """An agent with a daily budget (its own or its account's) whose turns' usage cannot
        be read is held from new work: that budget cannot be kept (``budgets``)."""
        budgeted = agent.daily_budget is not None or agent.account_daily_budget is not None
        if not budgeted and not any(a.account_daily_budget for a in self.store.agents.values()):
            return
        settings = self.store.settings
        why = await asyncio.to_thread(turn_cost.usage_said, agent, settings.cli_dirs, settings.home)
        if why is not None and why.startswith("unknown"):
            await self.store.write(agent.id, budgets.hold_unreadable, agent.id, why)

    def _follow_wrappers(self) -> None:
        """Each wrapper script's agent whose CLI's process is not followed (none was, or it
        ended): its CLI's process looked for under its roots, what was found recorded
        (``core.costs.followed``). Blocking (``/proc``, a tmux client)."""
        agents = self.store.agents
        home = self.store.settings.home
        looking = [
            a for a in agents.values()
            if turn_cost.followable(a) and not turn_cost.metered(a)
            and followed.running(home, a.id) is None
        ]  # fmt: skip
        if not looking:
            return
        roots = self.resolver.roots(agents, fresh=True)
        for agent in looking:
            cli = by_name(agent.cli)
            mine = [root.pid for root in roots if root.agent == agent.id]
            assert cli is not None  # (followable)
            found = followed.follow(cli, mine) if mine else "no pane, window or host of it runs"
            if isinstance(found, followed.Followed):
                log.info("%s: its CLI's folder %s, %s", agent.id, found.folder, found.said())
            followed.record(home, agent.id, found)

    def _config(self, agent: Agent) -> Path | None:
        """The folder ``agent``'s CLI writes its sessions in: on the tmux and desktop routes
        its ``cli_dir`` (which ``swarm desktop up`` writes), else swarm's own environment's;
        on the protocol route the one its host runs it with when its CLI's usage is read
        from its files (its ``cli_dir``); None: not read."""
        if agent.delivery in ROUTES:
            settings = self.store.settings
            return turn_cost.terminal_folder(agent, settings.cli_dirs, settings.home)
        if agent.delivery == PROTOCOL:
            source, _ = turn_cost.protocol_usage(agent, self.store.settings.home)
            known = turn_cost.cli_folder(agent, self.store.settings.home)
            if source is turn_cost.UsageSource.SESSIONS and known:
                return Path(known)
        return None

    def _read_folder(
        self,
        sessions: SessionFiles,
        config: Path,
        cwd: str,
        hosted: str | None = None,
        refusals: list[str] | None = None,
        sandboxed: bool = False,
    ) -> list[UsageTurn]:
        """The turns ended in ``cwd``'s session files since the last look; a protocol
        agent's (``hosted``: its host's session) only those of that session, ever (its
        turns are all swarm's agent's, those that ended while swarm was stopped too; one
        counted before is not counted again, ``core.costs.ledger``; a session file another
        process wrote into its workspace is not its own: it charged the agent before). A
        ``sandboxed`` agent's folder is its own copy, its to write: a file reached through a
        link that leads out of it (to another agent's sessions, the person's) is not read,
        said once in ``refusals``."""
        folder = sessions.folder(config, cwd)  # may read a file (Gemini CLI's projects.json)
        first_look = (config, cwd) not in self.looked  # (a folder found later: a new session)
        self.looked.add((config, cwd))
        found: list[UsageTurn] = []
        inside = config if sandboxed else None
        for path in self._files(sessions, folder, cwd, first_look, inside, refusals):
            reader = self.readers.get((path, cwd))
            if reader is None:
                reader = self.readers[path, cwd] = sessions.reader(path, cwd)
                if first_look:  # there before swarm looked: its past is not counted
                    found += [t for t in reader.read() if hosted and t.session == hosted]
                    self._said_refused(reader, path, cwd, refusals)
                    continue
            found += [t for t in reader.read() if hosted is None or t.session == hosted]
            self._said_refused(reader, path, cwd, refusals)
        return found

    def _said_refused(
        self, reader: UsageReader, path: Path, cwd: str, refusals: list[str] | None
    ) -> None:
        """A file newly refused by its reader added to ``refusals`` (once, until a read of
        it works again): its agent's usage there is not counted meanwhile."""
        if not isinstance(reader, RefusingReader):
            return
        if reader.refused is None:
            self.refused.discard((path, cwd))
        elif (path, cwd) not in self.refused and refusals is not None:
            self.refused.add((path, cwd))
            why = reader.refused
            refusals.append(why if str(path) in why else f"{path}: {why}")

    def _files(
        self,
        sessions: SessionFiles,
        folder: Path,
        cwd: str,
        first_look: bool,
        inside: Path | None = None,
        refusals: list[str] | None = None,
    ) -> list[Path]:
        """The newest ``MAX_FILES`` session files of ``cwd`` in ``folder``, oldest first
        (after the first look at a folder of every session ever run: the recent ones and
        those already followed); with ``inside``, only those whose real path is in it
        (the others said once in ``refusals``)."""
        try:
            listed = self._listed(sessions, folder, cwd, first_look)
            if inside is not None:
                listed = self._contained(listed, inside, cwd, refusals)
            files = sorted(listed, key=_modified)
        except OSError as exc:
            log.debug("%s cannot be listed: %s", folder, exc)
            return []
        if sessions.cwd_of is None:
            return files[-MAX_FILES:]
        mine: list[Path] = []
        for path in reversed(files):
            said = self.cwds.get(path)
            if said is None and (said := sessions.cwd_of(path)) is not None:
                self.cwds[path] = said  # a first line being written is read again next time
            if _same_folder(said, cwd):
                mine.insert(0, path)
                if len(mine) == MAX_FILES:
                    break
        return mine

    def _contained(
        self, listed: set[Path], inside: Path, cwd: str, refusals: list[str] | None
    ) -> set[Path]:
        """The files of ``listed`` whose real path is in ``inside``'s; each other one said
        once in ``refusals`` (until it is in again)."""
        top = os.path.join(os.path.realpath(inside), "")
        kept = set()
        for path in listed:
            if os.path.realpath(path).startswith(top):
                kept.add(path)
            elif (path, cwd) not in self.refused and refusals is not None:
                self.refused.add((path, cwd))
                refusals.append(f"{path}: {OUTSIDE}")
        return kept

    def _listed(
        self, sessions: SessionFiles, folder: Path, cwd: str, first_look: bool
    ) -> set[Path]:
        if first_look or sessions.recent is None:
            return set(folder.glob(sessions.pattern))
        followed = {
            path for path, mine in self.readers if mine == cwd and path.is_relative_to(folder)
        }
        recent = sessions.recent(self.store.clock.now())
        return followed | {path for pattern in recent for path in folder.glob(pattern)}


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed since it was listed: read last, and found gone
        return float("inf")


def _same_folder(said: str | None, cwd: str) -> bool:
    return said is not None and os.path.normpath(said) == os.path.normpath(cwd)


def _record(conn: Conn, ctx: Ctx, agent: str, turns: list[UsageTurn]) -> int:
    """``turns`` into the ledger, each on the task its agent held when it began (none when
    its file gave no time: never guessed)."""
    spent = [(turn, None if turn.at is None else held_at(conn, agent, turn.at)) for turn in turns]
    return turn_cost.record_transcript_turns(conn, ctx, agent, spent)
