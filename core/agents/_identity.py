"""Who a process is: the agent whose terminal it runs in, proven by the process tree, never
by a name the process writes (a hook's ``--agent``, ``SWARM_AGENT``, an ``agent`` field).

A process is an agent's when one of its ancestors (``/proc/<pid>/stat``'s parent chain) is
a process swarm knows as that agent's root: the shell of its tmux pane (``tmux list-panes
-a``, on the servers the agents file names: a pane in the window of the agent's ``tmux``
target, or in its ``swarm-<agent>`` session), a protocol agent's host process (its pid
file in the swarm home), a sandboxed agent's door (its pid file
in the swarm home: it runs only that agent's commands and hooks, for a caller it placed in
that agent's terminal), a desktop agent's window process (:func:`record_window`: the
``_NET_WM_PID`` of the window a prompt was last delivered into, while that process runs), or
a process another part registered (:func:`register_roots`). The nearest such ancestor names
the agent. An agent with no root process found is one swarm cannot
place: a name from outside every agent's terminal is believed for it, and only for it.

Blocking (a tmux client, ``/proc`` reads): run it off the event loop. Linux; elsewhere
there is no ``/proc`` chain and nothing is placed (every agent is believed by the name it gives).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import NotFound
from core.formats.text import one_line, shorten
from core.hosts import running
from core.privacy.files import make_dirs, write_file
from core.processes import ancestry
from core.sandbox import running_door
from core.tmux import PaneRef
from core.workspaces import Proc, agent_at, start_time

if TYPE_CHECKING:
    from core.models import Agent

log = logging.getLogger(__name__)
LIST_TIMEOUT_S = 2.0  # one ``tmux list-panes -a``; tmux answers in milliseconds
CACHE_S = 1.0  # the roots found are used again this long when they place the process
RootsKey = tuple[tuple[str, str | None, str | None, str], ...]  # what the roots depend on
SESSION_PREFIX = "swarm-"  # ``swarm desktop up``'s sessions (automation.tmux_sessions)
WINDOWS = "windows"  # <home>/windows/<agent>.pid: a desktop agent's window process
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")

# agent id -> pids of its root processes; given the configured agents
RootSource = Callable[[Mapping[str, "Agent"]], Mapping[str, Iterable[int]]]
_SOURCES: dict[str, RootSource] = {}
_SOURCES_LOCK = threading.Lock()


def register_roots(name: str, source: RootSource) -> None:
    """Add (or replace) a source of agents' root processes, e.g. a protocol host's:
    ``source(agents)`` gives each agent's root pids. A source that raises is logged and
    skipped (it places nobody)."""
    with _SOURCES_LOCK:
        _SOURCES[name] = source


def unregister_roots(name: str) -> None:
    """Remove the source ``name`` (nothing when there is none)."""
    with _SOURCES_LOCK:
        _SOURCES.pop(name, None)


@dataclass(frozen=True)
class Root:
    """A process swarm knows as an agent's, and what it is in words."""

    agent: str
    pid: int
    what: str  # "tmux pane %3 (swarm-Agent-1:0)"


@dataclass(frozen=True)
class Placement:
    """Where a process runs: the agent whose root is its nearest such ancestor (None:
    outside every agent's terminal), how that was found, and the agents swarm can place."""

    pid: int | None
    agent: str | None
    how: str
    placeable: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Refused:
    """A name the process may not act under, and why (one line)."""

    named: str
    why: str


def whose(placement: Placement, named: str | None) -> str | Refused | None:
    """The agent a process acts for: the one whose terminal it runs in, and a ``named``
    agent only when it is that one; outside every agent's terminal, ``named`` only when
    swarm cannot place it otherwise. None when nothing names an agent."""
    if placement.agent is not None:
        if named is None or named == placement.agent:
            return placement.agent
        return Refused(named, f"it runs in {placement.agent}'s terminal ({placement.how})")
    if named is not None and named in placement.placeable:
        return Refused(named, f"it runs outside {named}'s terminal, which swarm knows")
    return named


def hook_agent(
    agents: Mapping[str, Agent],
    home: Path,
    placement: Placement,
    named: Iterable[tuple[str, str | None]],
    cwd: Path,
) -> str | Refused | None:
    """The agent a hook's event is recorded for (:func:`whose`): the names it gives
    (``named``: (where, name) in their order, e.g. ``--agent`` then ``SWARM_AGENT``), else
    the workspace of ``cwd``. Run in an agent's terminal, every name given must be that
    agent's. A name that is no configured agent raises NotFound (never credited to
    another)."""
    lowered = {a.lower(): a for a in agents}
    given: list[str] = []
    for source, name in named:
        if name and name.strip():
            if name.strip().lower() not in lowered:
                raise NotFound(f"{source} '{shown_name(name)}' is not a configured agent")
            given.append(lowered[name.strip().lower()])
    if placement.agent is not None:
        other = next((name for name in given if name != placement.agent), None)
        return whose(placement, other)
    return whose(placement, given[0] if given else agent_at(home, agents, cwd))


def claimed_agent(
    agents: Mapping[str, Agent], named: Iterable[tuple[str, str | None]]
) -> str | None:
    """The configured agent the first name given is (None: none given, or no agent's)."""
    lowered = {a.lower(): a for a in agents}
    first = next((name.strip() for _, name in named if name and name.strip()), None)
    return lowered.get(first.lower()) if first is not None else None


def tmux_roots(agents: Mapping[str, Agent], env: Mapping[str, str]) -> list[Root]:
    """The pane processes of the agents' tmux windows (the ``tmux`` target's window, or a
    ``swarm-<agent>`` session), on each tmux server the agents file names (the default
    server only when an agent names it)."""
    found: list[Root] = []
    servers = {a.tmux_socket for a in agents.values() if a.tmux is not None}
    for socket in servers:
        for session, index, name, pane, pid in _panes(socket, env):
            for agent in agents.values():
                if agent.tmux_socket != socket:
                    continue
                if _in_window(agent.tmux, session, index, name) or session == _session(agent):
                    found.append(Root(agent.id, pid, f"tmux pane {pane} ({session}:{index})"))
    return found


def _session(agent: Agent) -> str:
    return SESSION_PREFIX + agent.id.replace(".", "_").replace(":", "_")


def _in_window(target: str | None, session: str, index: str, name: str) -> bool:
    if not target:
        return False
    where, _, window = target.partition(":")
    return where == session and window.split(".")[0] in (index, name)


def _panes(socket: str | None, env: Mapping[str, str]) -> list[tuple[str, str, str, str, int]]:
    """(session, window index, window name, pane id, pane pid) of every pane of a server."""
    fields = "#{session_name}\t#{window_index}\t#{window_name}\t#{pane_id}\t#{pane_pid}"
    args = PaneRef("", socket).command("list-panes", "-a", "-F", fields)
    clean = {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=LIST_TIMEOUT_S,
                              env=clean, stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        parts = line.split("\t")
        if len(parts) == 5 and parts[4].isdigit():
            rows.append((parts[0], parts[1], parts[2], parts[3], int(parts[4])))
    return rows


def host_roots(agents: Mapping[str, Agent], home: Path) -> list[Root]:
    """The protocol agents' hosts (``core.hosts``) running on this machine: the agent CLI
    and everything it starts (its shell tool, ``swarm task done``, its MCP server) run under
    its host."""
    found = []
    for agent in agents.values():
        pid = running.host_pid(home, agent.id) if agent.delivery == "protocol" else None
        if pid is not None:
            found.append(Root(agent.id, pid, f"protocol host pid {pid}"))
    return found


def door_roots(agents: Mapping[str, Agent], home: Path) -> list[Root]:
    """The sandboxed agents' doors running on this machine (``core.sandbox.running_door``):
    what a door runs (a hook, ``swarm task done``) runs for its agent alone."""
    found = []
    for agent in agents.values():
        pid = running_door(home, agent.id) if agent.sandbox is not None else None
        if pid is not None:
            found.append(Root(agent.id, pid, f"door pid {pid}"))
    return found


def window_path(home: Path, agent: str) -> Path:
    """Where ``agent``'s window process is recorded (its name made safe for a file name)."""
    return home / WINDOWS / f"{_SAFE.sub('_', agent)}.pid"


def record_window(home: Path, agent: str, pid: int | None) -> None:
    """Record (None: forget) the process of the window a prompt to ``agent`` just went into:
    the desktop driver's word, after a confirmed delivery. Its start time is kept with it,
    so a later process given the same pid is nobody's root."""
    path = window_path(home, agent)
    started = start_time(pid) if pid is not None else None
    if pid is None or started is None:
        path.unlink(missing_ok=True)
        return
    line = f"{pid} {started}\n"
    try:
        if path.read_text(encoding="utf-8") == line:
            return
    except OSError:
        make_dirs(path.parent)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    write_file(temporary, line.encode())
    os.replace(temporary, path)


def window_roots(agents: Mapping[str, Agent], home: Path) -> list[Root]:
    """The desktop agents' window processes (:func:`record_window`) still running; a process
    recorded for two agents is neither's (one terminal server, one editor, for both)."""
    found: dict[str, int] = {}
    for agent in agents.values():
        if agent.delivery != "gui":
            continue
        try:
            pid, started = window_path(home, agent.id).read_text(encoding="utf-8").split()
            if Proc(int(pid), started).alive():
                found[agent.id] = int(pid)
        except (OSError, ValueError):
            continue
    pids = list(found.values())
    return [Root(agent, pid, f"window process {pid}") for agent, pid in found.items()
            if pids.count(pid) == 1]  # fmt: skip


def registered_roots(agents: Mapping[str, Agent]) -> list[Root]:
    """The roots of every registered source (:func:`register_roots`)."""
    with _SOURCES_LOCK:
        sources = list(_SOURCES.items())
    found = []
    for name, source in sources:
        try:
            given = source(agents)
            found += [Root(a, int(p), f"{name} pid {p}") for a, ps in given.items() for p in ps]
        except Exception:
            log.exception("agent roots of %s not read", name)
    return [root for root in found if root.agent in agents]


class Resolver:
    """Places processes among the agents; the roots found are kept ``CACHE_S`` for the next
    process they place (a process they do not place looks again, at most once a
    ``CACHE_S``; one that claims an agent whose terminal swarm knows waits for that look,
    so a terminal opened just after the last look is found, not refused). Thread-safe."""

    def __init__(self, env: Mapping[str, str], home: Path | None = None) -> None:
        self.env = {**os.environ, **env}  # tmux is found on this process's PATH at least
        self.home = home  # the swarm home whose hosts and windows are roots too (None: none)
        self._lock = threading.Lock()
        self._roots: list[Root] = []
        self._key: RootsKey | None = None
        self._at = -CACHE_S

    def roots(self, agents: Mapping[str, Agent], fresh: bool = False) -> list[Root]:
        """The agents' root processes (looked up again when ``fresh`` and due)."""
        with self._lock:
            key = _key(agents)
            due = time.monotonic() - self._at >= CACHE_S
            if self._key != key or (fresh and due):
                self._look(agents, key)
            return self._roots

    def place(
        self,
        pid: int | None,
        agents: Mapping[str, Agent],
        chain: list[int] | None = None,
        claimed: str | None = None,
    ) -> Placement:
        """Where process ``pid`` runs (None: unknown, e.g. no peer credentials); ``chain``:
        its :func:`ancestry` read before (when it connected: it may be gone since);
        ``claimed``: the agent it says it is (outside that agent's known terminal, it waits
        for a look begun after it asked)."""
        asked = time.monotonic()
        chain = chain if chain is not None else ancestry(pid) if pid is not None else []
        found = _nearest(chain, self.roots(agents))
        if found is None and chain:
            found = _nearest(chain, self.roots(agents, fresh=True))
        if found is None and chain and any(r.agent == claimed for r in self._roots):
            found = _nearest(chain, self._roots_since(agents, asked))
        placeable = frozenset(root.agent for root in self._roots)
        if found is None:
            shown = f"pid {pid}" if pid is not None else "an unknown process"
            return Placement(pid, None, f"{shown}, in no agent's terminal", placeable)
        return Placement(pid, found.agent, f"{found.what}, pid {pid}", placeable)

    def _roots_since(self, agents: Mapping[str, Agent], asked: float) -> list[Root]:
        """The roots of a look begun at ``asked`` or later (waited for: at most
        ``CACHE_S``; callers waiting at once share one look)."""
        while True:
            with self._lock:
                left = CACHE_S - (time.monotonic() - self._at)
                if self._at >= asked:
                    return self._roots
                if left <= 0:
                    self._look(agents, _key(agents))
                    return self._roots
            time.sleep(left)

    def _look(self, agents: Mapping[str, Agent], key: RootsKey) -> None:
        """Look the roots up (the lock held)."""
        self._roots = tmux_roots(agents, self.env) + registered_roots(agents)
        if self.home is not None:
            self._roots += host_roots(agents, self.home) + window_roots(agents, self.home)
            self._roots += door_roots(agents, self.home)
        self._key, self._at = key, time.monotonic()


def _key(agents: Mapping[str, Agent]) -> RootsKey:
    """What the roots depend on in the agents file."""
    return tuple((a.id, a.tmux, a.tmux_socket, a.delivery) for a in agents.values())


def _nearest(chain: list[int], roots: list[Root]) -> Root | None:
    by_pid = {root.pid: root for root in roots}
    return next((by_pid[pid] for pid in chain if pid in by_pid), None)


def shown_name(name: str) -> str:
    """A name as written by the caller, safe for one log line."""
    return shorten(one_line(name.strip()), 100)
