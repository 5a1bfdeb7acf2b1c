"""``swarm desktop status``: each agent on its route, from what runs on this machine (its
window, its tmux session, its protocol host and the agent under it) and what swarm's store
says (its state, the task it holds, its spend today). No display is needed: without one the
windows are said to be unknown, the sessions and hosts are read as they are.

Besides the agents' rows, every tmux session and protocol host of the home is listed, the
stray ones flagged (``stray``): a session or host whose agent is not in the agents file, an
agent with both a host and a session, a session an older swarm started on the person's
default tmux server.

The exit code is 0 when every agent's route runs (a window agent's window and process where
a display is open, a tmux session's pane process, a protocol host with its agent), else 1.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from automation import tmux_sessions as tmux
from automation.launch import TerminalSessions
from core.formats.text import one_line, shorten
from core.hosts import client, running, wire
from core.models import Agent
from core.processes import started
from core.service.swarm import SwarmService

HELLO_S = 3.0  # a host's hello, at most


@dataclass
class Row:
    """One agent's line."""

    agent: str
    route: str  # protocol, tmux, window (gui: a terminal or an editor), inbox
    where: str  # its window, tmux session or protocol host, in words
    pid: int | None  # the process of its route (the pane's, the host's)
    session: str | None  # the tmux session, or the protocol session
    running: bool | None  # None: cannot be told here (a window with no display)
    window: int | None = None
    box: tuple[int, int, int, int] | None = None  # the window's place on the screen
    process: str | None = None  # the pane's command, or the host's
    alive: bool = False  # the route's process runs (its agent too, under a host)
    state: str = "unknown"
    task: str | None = None
    uptime_s: float | None = None
    cost_today: str = "unknown"
    why: str = ""
    stray: bool = False  # a session or host the person should look at (``why`` says)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


async def rows(
    service: SwarmService, agents: list[Agent], places: dict[str, Any], display: bool
) -> list[Row]:
    """Each agent's row: ``places`` (the desktop session's status rows, by agent; windows
    among them only with a ``display``) for the windows and tmux sessions, the hosts asked
    here, the store for the rest."""
    roster = {row["id"]: row for row in await service.roster.rows()}
    spent = await _spent_today(service)
    found = []
    for agent in agents:
        if agent.delivery == "protocol":
            row = await _hosted(service.settings.home, agent)
        else:
            row = _placed(agent, places.get(agent.id), display)
        info = roster.get(agent.id, {})
        row.state = str(info.get("state") or "unknown")
        row.task = next(iter(info.get("tasks") or ()), None)
        row.cost_today = spent.get(agent.id) or _nothing_spent(service, agent)
        row.uptime_s = _uptime(row.pid)
        found.append(row)
    return found


async def _hosted(home: Path, agent: Agent) -> Row:
    """A protocol agent's row from its host: running, its agent running, its session."""
    pid = running.host_pid(home, agent.id)
    if pid is None:
        why = "no protocol host runs (swarm desktop up --protocol starts it)"
        return Row(agent.id, "protocol", "no host", None, None, False, why=why)
    try:
        hello = await client.hello(home, agent.id, wait_s=HELLO_S)
    except client.HostUnreachable as exc:
        return Row(agent.id, "protocol", f"host pid {pid}", pid, None, False, why=str(exc))
    exited = hello.exit_code
    where = f"host pid {pid}, agent pid {hello.agent_pid or '-'}"
    why = f"its agent exited ({exited})" if exited is not None else ""
    session = shorten(one_line(hello.session), 80) if hello.session else None  # the agent's words
    return Row(agent.id, "protocol", where, pid, session, exited is None,
               process="protocol host", alive=exited is None, why=why)  # fmt: skip


def _placed(agent: Agent, place: Any, display: bool) -> Row:
    """A window or tmux agent's row from the desktop session's status (None: not read)."""
    route = {"tmux": "tmux", "inbox": "inbox"}.get(agent.delivery, "window")
    if place is None:
        return Row(agent.id, route, "not read", None, None, None)
    seen = {"window": place.window, "box": place.box, "process": place.process,
            "alive": bool(place.alive)}  # fmt: skip
    if route != "window":
        where = f"tmux {place.session}" if place.session else "no tmux session"
        return Row(agent.id, route, where, place.pid, place.session, place.alive, **seen)
    if not display:  # its window cannot be seen; its pane's process can, where it has one
        return Row(agent.id, route, "window unknown (no display)", place.pid, place.session,
                   True if place.alive else None, **seen)  # fmt: skip
    where = f"window {place.window:#x}" if place.window else "no window"
    running = bool(place.alive and place.window)
    return Row(agent.id, route, where, place.pid, place.session, running, **seen)


async def _spent_today(service: SwarmService) -> dict[str, str]:
    """Each agent's spend since midnight UTC (the ledger's day), in words (its unknown
    turns said)."""
    midnight = calendar.timegm((*time.gmtime(service.clock.now())[:3], 0, 0, 0))
    spend = await service.costs.spend(since=midnight)
    return {str(part.key): part.cost_text() for part in spend.get("agent", [])}


def _nothing_spent(service: SwarmService, agent: Agent) -> str:
    """An agent with no turn today: ``$0.00`` where its turns' usage is read, else
    ``unknown`` (Aider, whose usage swarm cannot read: never $0.00)."""
    from core.costs.usage_place import usage_said

    said = usage_said(agent, service.settings.cli_dirs, service.settings.home)
    readable = said is not None and not said.startswith(("unknown", "none read"))
    return "$0.00" if readable else "unknown"


def _uptime(pid: int | None) -> float | None:
    """How long process ``pid`` has run, in seconds (None: unknown)."""
    ticks = started(pid) if pid is not None else None
    if ticks is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        since_boot = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
        return max(0.0, since_boot - int(ticks) / os.sysconf("SC_CLK_TCK"))
    return None


def uptime_text(seconds: float | None) -> str:
    """``3h12m``, ``4m``, ``-``."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def line(row: Row) -> str:
    """One agent's line for a terminal."""
    running = {True: "running", False: "stopped", None: "unknown"}[row.running]
    session = row.session or "-"
    text = (
        f"{row.agent:<12} {row.route:<8} {row.where:<30} {session[:24]:<24} {running:<8} "
        f"{row.state:<9} {row.task or '-':<7} {uptime_text(row.uptime_s):>7} {row.cost_today:>9}"
    )
    return text + (f"  ({row.why})" if row.why else "")


HEADER = (
    f"{'AGENT':<12} {'ROUTE':<8} {'WHERE':<30} {'SESSION':<24} {'RUNNING':<8} {'STATE':<9} "
    f"{'TASK':<7} {'UP':>7} {'TODAY':>9}"
)


@dataclass(frozen=True)
class Found:
    """Every tmux session and protocol host of a home, as found on this machine."""

    sessions: list[tmux.Session]
    hosts: dict[str, int]  # agent -> its host's pid


def find(home: Path, config_path: Path) -> Found:
    """The home's ``swarm-*`` sessions on each server it may use (its own, the agents file's,
    the default one where an older swarm started them) and its running hosts (blocking)."""
    terminal = TerminalSessions(home, config_path)
    found = tmux.home_sessions(terminal.servers(), home) if terminal.tmux_ok() else []
    return Found(found, _hosts(home))


def _hosts(home: Path) -> dict[str, int]:
    """Each running host of ``home`` by its agent (the agent its command line names)."""
    hosts = {}
    for pid_file in sorted(wire.folder(home).glob("*.pid")):
        try:
            pid = int(pid_file.read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            continue
        agent = running.hosted_agent(pid)
        if agent is not None and running.host_pid(home, agent) == pid:
            hosts[agent] = pid
    return hosts


def flag(found: list[Row], seen: Found, known: set[str]) -> list[Row]:
    """``found`` with its agents' stray sessions and hosts flagged, and a row more for each
    session or host of an agent without a row: a parked one's, or one whose agent is not in
    the agents file (``known``: its agents, parked ones too), a stray."""
    by_agent = {row.agent: row for row in found}
    session_of = {tmux.session_name(agent): agent for agent in known}
    extra = []
    for session in seen.sessions:
        agent = session_of.get(session.name)
        row = by_agent.get(agent) if agent else None
        where = f"tmux {session.name} on {session.server.said}"
        ends = tmux.typed(session.server, "kill-session", "-t", session.name)
        older = f"{where}, an older swarm's: swarm desktop down ends it, up moves it"
        if agent is None:
            why = f"{where}, its agent is not in the agents file ({ends} ends it)"
            extra.append(_session_row(session, why, stray=True))
        elif row is None:  # parked: its session kept
            said = older if session.server.socket is None else f"parked, {where} kept"
            extra.append(_session_row(session, said, session.server.socket is None, agent))
        elif session.server.socket is None:
            _mark(row, older)
        elif row.route == "protocol":
            _mark(row, f"{where} runs beside its protocol route ({ends} ends the session)")
    for agent, pid in seen.hosts.items():
        row = by_agent.get(agent)
        if row is None:
            parked = agent in known
            why = (
                "parked, its host kept"
                if parked
                else (f"stray: its agent is not in the agents file (kill {pid} ends its host)")
            )
            extra.append(Row(agent, "protocol", f"host pid {pid}", pid, None, True,
                             process="protocol host", alive=True, why=why, stray=not parked,
                             uptime_s=_uptime(pid)))  # fmt: skip
        elif row.route != "protocol":
            _mark(row, f"both its {row.route} route and a protocol host (pid {pid}): swarm "
                       f"desktop down --agent {agent}, then up, keeps one")  # fmt: skip
    return [*found, *extra]


def _session_row(session: tmux.Session, why: str, stray: bool, agent: str = "") -> Row:
    """The row of a session of an agent that has none (parked, or not in the file)."""
    alive = not session.pane.dead and tmux.alive(session.pane.pid)
    name = agent or session.name.removeprefix(tmux.PREFIX)
    return Row(name, "tmux", f"tmux {session.name}", session.pane.pid, session.name, alive,
               process=session.pane.command, alive=alive, uptime_s=_uptime(session.pane.pid),
               why=f"stray: {why}" if stray else why, stray=stray)  # fmt: skip


def _mark(row: Row, why: str) -> None:
    row.stray = True
    row.why = f"{row.why}; stray: {why}" if row.why else f"stray: {why}"


def healthy(found: list[Row]) -> bool:
    """Whether every route that can be told runs."""
    return all(row.running is not False for row in found)
