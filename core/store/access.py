"""``StoreAccess``: a store with the settings, agents and clock a change is made with.

What every service writes through (``SwarmService``'s books, which it holds as
``service.store``, the workflow, plan, summary and workspace services, the watcher,
retention): one transaction per ``write``, listeners woken
after a write that changed rows, observers told of timed work.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar, TypeVarTuple

from core.context import Ctx, find_agent, roles_of
from core.models import Agent
from core.protocols import Clock, Observer
from core.settings import Settings
from core.store.conn import Channel, Conn
from core.store.sqlite import Store

if TYPE_CHECKING:
    from core.store.commit_watch import CommitWait

log = logging.getLogger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")  # a transaction's own arguments, checked against its function


class StoreAccess:
    """One store, its settings, the configured agents and the clock: the one door into the
    store (its ``Store`` is private; each of its operations is a method here)."""

    def __init__(self, settings: Settings, agents: list[Agent], db: Store, clock: Clock):
        self.settings = settings
        self._db = db
        self.agents = {a.id: a for a in self.as_served(agents)}
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []
        self.observers: list[Observer] = []  # metrics (bot/web/metrics.py)

    @property
    def read_only(self) -> str | None:
        """Why the store only reads (a command that only reads, on a full disk), else None."""
        return self._db.read_only

    @property
    def listens(self) -> bool:
        """Whether other processes' writes can wake this one at once (PostgreSQL's NOTIFY)."""
        return self._db.listens

    @property
    def serves_nodes(self) -> bool:
        """Whether other machines' delivery nodes share this store (PostgreSQL)."""
        return self._db.serves_nodes

    def as_served(self, agents: Iterable[Agent]) -> list[Agent]:
        """``agents`` as this store serves them: with no node on a store that serves no nodes
        (SQLite: the coordinator delivers to every agent)."""
        if self._db.serves_nodes:
            return list(agents)
        return [dataclasses.replace(a, node=None) if a.node else a for a in agents]

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every write made through this access."""
        self._listeners.append(callback)

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Tell every observer (metrics); an observer's failure is logged, never raised."""
        for observer in self.observers:
            try:
                observer.observe(name, value, labels)
            except Exception:
                log.exception("observer %r failed on %s", observer, name)

    def ctx(self, actor: str) -> Ctx:
        """A context for a change made now by ``actor``."""
        return Ctx(self.agents, self.settings, self.clock.now(), actor)

    def resolve_agent(self, agent_id: str) -> Agent:
        """The configured agent ``agent_id`` (case-insensitive); NotFound naming the agents."""
        return find_agent(self.agents, agent_id)

    def roles(self) -> list[str]:
        """The configured agents' roles, each once, in the agents file's order."""
        return roles_of(self.agents)

    async def write(self, actor: str, fn: Callable[[Conn, Ctx, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, ctx, *args)`` as one transaction by ``actor``; wake listeners. The
        context's time is read as the transaction starts (each attempt of it), not when the
        call was made: what it writes is dated when it happens, not before a wait for the
        store's writer (another write in progress)."""
        result: T
        result, changed = await self._db.write(_counting_changes, fn, self, actor, *args)
        if changed:
            for listener in self._listeners:
                listener()
        return result

    async def read(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one read."""
        return await self._db.read(fn, *args)

    async def update(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one write transaction with no context (``fn`` is
        given no ``Ctx``: web tokens, which record their own events); listeners are not
        woken."""
        return await self._db.write(fn, *args)

    async def write_concurrent(self, fn: Callable[[Conn, *Ts], T], *args: *Ts) -> T:
        """Run ``fn(conn, *args)`` as one transaction written for concurrent writers (a
        node's claims, its heartbeat); listeners are not woken."""
        return await self._db.write_concurrent(fn, *args)

    def notify_changes(self, on: bool) -> None:
        """Whether this store's commits tell other processes."""
        self._db.notify_changes(on)

    def backend_pid(self) -> int:
        """The server process whose notifications are this store's own (0: none)."""
        return self._db.backend_pid()

    async def listen(
        self,
        channel: Channel,
        heard: Callable[[int, str], None],
        ready: Callable[[], None],
        what: str,
        agents: Sequence[str] = (),
    ) -> None:
        """Until cancelled: ``heard(pid, payload)`` for each announcement on ``channel``
        (``Store.listen``)."""
        await self._db.listen(channel, heard, ready, what, agents)

    def fence(self, reason: str) -> None:
        """Refuse all work from now on and cut any statement in flight (the scheduler lock
        was lost)."""
        self._db.fence(reason)

    def watch_prompt(self, prompt_id: int) -> CommitWait:
        """A wait for another process's decision of permission prompt ``prompt_id``."""
        return self._db.watch_prompt(prompt_id)

    async def close(self) -> None:
        """Close the store."""
        await self._db.close()


def _counting_changes(
    conn: Conn, fn: Callable[[Conn, Ctx, *Ts], T], access: StoreAccess, actor: str, *args: *Ts
) -> tuple[T, bool]:
    before = conn.total_changes
    result = fn(conn, access.ctx(actor), *args)
    return result, conn.total_changes != before
