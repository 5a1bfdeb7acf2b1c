"""The agents' model gateways, watched by ``swarm run`` (a timer of its loop): each agent
whose sandbox has a network of its own through swarm's gateway (``sandbox_network =
"model"``), started by ``desktop up`` and not ended (its door runs), and each unsandboxed
agent with ``gateway = true`` whose gateway ``desktop up`` started and ``desktop down`` did
not end (its credential kept: a gateway started again asks the one its CLI holds), is
checked every ``CHECK_S``:

- **Its gateway is running.** One that is not makes the agent ``errored`` ("its model
  gateway is not running": a ``gateway-down`` alert, which the judge reads, and the alert's
  ``alert.opened`` event) and is started again on the spec it ran on, the same sockets (its
  running sandbox's relay reaches the new process); once it runs the alert clears
  (``alert.cleared``) and the agent is judged again. A start that fails is tried again after
  ``RETRY_S``.
- **Its allow-list is the agents file's.** A ``sandbox_allow`` edited (by hand, or by the
  answer "allow" below) is written into the running gateway's spec, which reads it at its
  next connection: no restart, no stream cut.
- **Its proxy's refusals become events.** Its ``refusals.jsonl`` is read from where the
  last pass stopped (at most ``READ_MAX`` bytes a pass; the offset kept in the newest
  ``sandbox.refused`` event, so a restart neither loses nor repeats one): one event per host
  refused in a pass, naming the agent, the host (printable, cut: the agent chose it) and how
  many times. The first refusal ever of a plain ``host:port`` for an agent opens one "Needs
  you" item (a ``host-refused:HOST:PORT`` alert, at most ``MAX_OPEN_HOSTS`` open per agent)
  offering to allow it (``core.inbox.actions``) or deny it; later refusals of it are events.

What touches the processes and files (is the gateway running, start it, its spec, its
refusals file) is the launch package's, handed in by the composition root as a
``GatewayProbe``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.agents import (
    GATEWAY_DOWN,
    HOST_REFUSED,
    Freshness,
    clear_alert,
    ever_opened,
    open_alert,
    open_kinds,
    say_open,
)
from core.agents import judge as agent_judge
from core.context import Ctx
from core.event_kinds import EventKind
from core.history.event_queries import newest_of_kinds
from core.models import Agent
from core.protocols import PeriodicTimer
from core.sandbox.allow_file import plain_entry
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event

log = logging.getLogger(__name__)
CHECK_S = 2.0
RETRY_S = 30.0  # between two starts of a gateway that did not come up
READ_MAX = 64 * 1024  # of a refusals file, per agent and pass
MAX_HOSTS = 50  # events per agent and pass: the other hosts refused are counted in one more
MAX_OPEN_HOSTS = 5  # refused hosts' items open per agent at once: the others are events only
HOST_SHOWN = 120  # characters of a host as the agent spelled it
DOWN = "its model gateway is not running"
BACK = "its model gateway runs again"
ENDED = "its sandbox was ended (desktop down): its gateway is not watched"
ACTOR = "swarm"


class GatewayProbe(Protocol):
    """The gateways' processes and files (``automation.launch.sandbox.Gateways``)."""

    def watched(self, agent: Agent) -> bool:
        """Whether ``agent`` has a gateway of its own and its sandbox was started and not ended."""
        ...

    def running(self, agent: str) -> bool:
        """Whether ``agent``'s gateway runs."""
        ...

    def revive(self, agent: str) -> str | None:
        """Start ``agent``'s gateway again on its spec (blocking); a line saying what was done."""
        ...

    def sync_allow(self, agent: str, allow: Sequence[str]) -> bool:
        """``allow`` into ``agent``'s gateway spec when it differs; True when written."""
        ...

    def refusals(self, agent: str) -> Path:
        """``agent``'s proxy's refusals file."""
        ...


@dataclass(frozen=True)
class Refused:
    """The refusals of one host in one pass: as shown, the entry to allow (None: not a plain
    ``host:port``), how many, the last reason."""

    shown: str
    entry: str | None
    count: int
    reason: str


class GatewayWatch(PeriodicTimer):
    """A timer: the gateways of ``node``'s sandboxed agents (the coordinator's: None)."""

    def __init__(
        self, service: SwarmService, probe: GatewayProbe, fresh: Freshness, node: str | None = None
    ) -> None:
        super().__init__(service.clock, CHECK_S)
        self.service = service
        self.probe = probe
        self.fresh = fresh
        self.node = node
        self._down: set[str] | None = None  # agents with the alert open (read at the first pass)
        self._retry_at: dict[str, float] = {}
        self._offsets: dict[str, int] = {}

    def agents(self) -> list[Agent]:
        """The agents whose gateway is watched now."""
        mine = [a for a in self.service.agents.values() if a.node == self.node]
        return [a for a in mine if self.probe.watched(a)]

    async def run(self) -> int:
        """One pass over the watched agents; how many changes were written."""
        if self._down is None:
            others = {a.id for a in self.service.agents.values() if a.node != self.node}
            self._down = await self.service.store.read(_down_agents) - others
        done = 0
        watched = self.agents()
        for agent in watched:
            try:
                done += await self._health(agent)
                done += await self._refusals(agent.id)
            except Exception:
                log.exception("gateway watch: %s could not be checked", agent.id)
        for gone in self._down - {a.id for a in watched}:  # its sandbox ended (desktop down)
            self._down.discard(gone)
            done += await self._write(_came_back, gone, self.fresh, ENDED)
        return done

    async def _health(self, agent: Agent) -> int:
        assert self._down is not None
        if not self.probe.running(agent.id):
            done = 0
            if agent.id not in self._down:
                done = await self._write(_went_down, agent.id, self.fresh)
                self._down.add(agent.id)
            waits = self.clock.now() < self._retry_at.get(agent.id, 0.0)
            if waits or not self.probe.watched(agent):  # (or ended meanwhile)
                return done
            said = await asyncio.to_thread(self.probe.revive, agent.id)
            if not self.probe.running(agent.id):
                self._retry_at[agent.id] = self.clock.now() + RETRY_S
                log.warning("%s: %s", agent.id, said or DOWN)
                why = f"{agent.id}: {said or DOWN}; tried again every {RETRY_S:g} s"
                return done + await self._write(_still_down, agent.id, why)
            log.info("%s: %s", agent.id, said)
        written = await self._sync_allow(agent)
        if agent.id in self._down:
            self._down.discard(agent.id)
            self._retry_at.pop(agent.id, None)
            return int(written) + await self._write(_came_back, agent.id, self.fresh, BACK)
        return int(written)

    async def _sync_allow(self, agent: Agent) -> bool:
        """A sandboxed agent's allow-list written into its gateway's spec when it changed
        (an unsandboxed one's network is the host's: it has none)."""
        if agent.sandbox is None:
            return False
        allow = agent.sandbox.allow
        written = await asyncio.to_thread(self.probe.sync_allow, agent.id, allow)
        if written:
            log.info("%s: its gateway reads its new allow-list: %s", agent.id, ", ".join(allow))
        return written

    async def _refusals(self, agent: str) -> int:
        known = self._offsets.get(agent)
        start = known if known is not None else await self.service.store.read(_cursor, agent)
        path = self.probe.refusals(agent)
        chunk, offset = await asyncio.to_thread(_read_from, path, start)
        if not chunk:
            self._offsets[agent] = offset
            return 0
        end = offset + len(chunk)
        found = grouped([_record(line) for line in chunk.splitlines()])
        written = await self._write(_refused, agent, found, end) if found else 0
        self._offsets[agent] = end
        return written

    async def _write(self, fn: Any, *args: Any) -> int:
        done: int = await self.service.store.write(ACTOR, fn, *args)
        return done


def _down_agents(conn: Conn) -> set[str]:
    return {agent for agent, kinds in open_kinds(conn).items() if GATEWAY_DOWN in kinds}


def _went_down(conn: Conn, ctx: Ctx, agent: str, fresh: Freshness) -> int:
    if not open_alert(conn, ctx, agent, GATEWAY_DOWN, f"{agent}: {DOWN}"):
        return 0
    agent_judge.judge_and_apply(conn, ctx, agent, fresh)
    return 1


def _still_down(conn: Conn, ctx: Ctx, agent: str, why: str) -> int:
    """Why its gateway did not start again, on its open item (not only in the log)."""
    return int(say_open(conn, agent, GATEWAY_DOWN, why))


def _came_back(conn: Conn, ctx: Ctx, agent: str, fresh: Freshness, why: str) -> int:
    if not clear_alert(conn, ctx, agent, GATEWAY_DOWN, f"{agent}: {why}"):
        return 0
    agent_judge.judge_and_apply(conn, ctx, agent, fresh)
    return 1


def _cursor(conn: Conn, agent: str) -> int:
    """Where ``agent``'s refusals file was read to: the newest ``sandbox.refused`` event's."""
    kind = EventKind.SANDBOX_REFUSED.value
    newest = newest_of_kinds(conn, agent, (kind, kind, kind))
    try:
        offset = json.loads(newest.data or "{}")["offset"] if newest is not None else 0
    except (ValueError, KeyError, TypeError):
        return 0
    return offset if isinstance(offset, int) and offset >= 0 else 0


def _read_from(path: Path, offset: int) -> tuple[bytes, int]:
    """The whole lines of ``path`` from ``offset`` (at most ``READ_MAX`` bytes; a line longer
    than that is skipped), and the offset they start at (0 for a file now shorter: a new
    one)."""
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, 2)
            if size < offset:
                offset = 0
            stream.seek(offset)
            chunk = stream.read(READ_MAX)
    except OSError:
        return b"", offset
    whole = chunk[: chunk.rfind(b"\n") + 1]
    if not whole and len(chunk) == READ_MAX:
        return chunk, offset  # one line longer than a pass reads: passed over
    return whole, offset


def _record(line: bytes) -> tuple[str, int | None, str] | None:
    """A refusal's host, port and reason, None for a line that is no refusal."""
    try:
        found = json.loads(line)
        host, port, reason = found["host"], found.get("port"), found["reason"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(host, str) or not isinstance(reason, str):
        return None
    if not (port is None or (isinstance(port, int) and 0 < port < 65536)):
        port = None
    return host, port, reason


def shown_host(host: str) -> str:
    """An agent's host as swarm shows it: printable ASCII of a host's spelling only (no
    mention, no markup), cut to ``HOST_SHOWN``."""
    kept = "".join(c if c.isascii() and (c.isalnum() or c in ".-:[]_%") else "?" for c in host)
    return kept[:HOST_SHOWN] or "?"


def grouped(records: Sequence[tuple[str, int | None, str] | None]) -> list[Refused]:
    """One ``Refused`` per host and port, in the order first refused; at most ``MAX_HOSTS``,
    then one for the rest."""
    seen: dict[tuple[str, int | None], tuple[int, str]] = {}
    for record in records:
        if record is not None:
            host, port, reason = record
            seen[host, port] = (seen.get((host, port), (0, ""))[0] + 1, reason)
    found = []
    for (host, port), (count, reason) in list(seen.items())[:MAX_HOSTS]:
        shown = shown_host(host if port is None else f"{host}:{port}")
        entry = f"{host}:{port}" if port is not None and plain_entry(f"{host}:{port}") else None
        found.append(Refused(shown, entry, count, reason))
    rest = sum(count for count, _ in list(seen.values())[MAX_HOSTS:])
    if rest:
        found.append(Refused(f"{len(seen) - MAX_HOSTS} other hosts", None, rest, "refused"))
    return found


def _refused(conn: Conn, ctx: Ctx, agent: str, found: Sequence[Refused], offset: int) -> int:
    """One event per host refused, the first refusal of a plain host an item (bounded)."""
    open_hosts = sum(k.startswith(HOST_REFUSED) for k in open_kinds(conn).get(agent, ()))
    for one in found:
        times = f" ({one.count} times)" if one.count > 1 else ""
        reason = _reason(one.reason)
        insert_event(
            conn, ctx.now, EventKind.SANDBOX_REFUSED,
            f"{agent}'s egress proxy refused {one.shown}{times}: {reason}",
            agent=agent, actor=ctx.actor,
            data={"host": one.shown, "count": one.count, "reason": reason, "offset": offset},
        )  # fmt: skip
        kind = HOST_REFUSED + one.entry if one.entry is not None else ""
        if not kind or open_hosts >= MAX_OPEN_HOSTS or ever_opened(conn, agent, kind):
            continue
        text = (
            f"{agent} tried to reach {one.entry}, which its sandbox_allow does not list "
            f"({reason}): allow it (written into the agents file) or deny it (later "
            "refusals are events only)"
        )
        open_hosts += open_alert(conn, ctx, agent, kind, text)
    return len(found)


def _reason(reason: str) -> str:
    """A refusal's reason as shown: the proxy's words, the host in them as ``shown_host``."""
    return "".join(c if c.isprintable() and c not in "@<>`*_~|#" else "?" for c in reason)[:200]
