"""Interfaces that core defines and the other packages implement."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.models import Agent, Priority, Receipt


@dataclass(frozen=True)
class Parcel:
    """One rendered message for one agent, as a deliverer receives it."""

    delivery_id: int
    agent: Agent
    text: str
    sender: str
    task_id: int | None = None
    priority: Priority = Priority.normal
    is_retry: bool = False
    reset: tuple[str, ...] = ()  # not a message: the agent's reset action (keys, "text:...")
    withdraw: bool = False  # the task is withdrawn from the agent (a protocol turn: cancelled)


class Deliverer(Protocol):
    """Puts a parcel in front of its agent (chat window, inbox file, ...).

    ``time_limit_s`` is how long one ``deliver`` can take at most (the deliverer's own
    deadline), or None when it has none; the scheduler then waits a little longer than that,
    so that it never gives up on a delivery that can still land.
    """

    @property
    def time_limit_s(self) -> float | None:
        """The deliverer's own deadline for one delivery, in seconds (None: none)."""
        ...

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once and say how it went; never raise for an expected failure."""
        ...

    def close(self) -> None:
        """Release what the deliverer holds (worker threads, X connections)."""
        ...


@runtime_checkable
class Parallel(Protocol):
    """A deliverer that can deliver to several agents at once (tmux panes, inbox files).

    ``parallel(agent)``: whether ``agent``'s deliveries may run beside other agents'; still
    one at a time per agent, in order. The agents it says False for share one lane, one
    delivery at a time (the desktop driver, under its input lock). A deliverer without this
    method delivers one at a time.
    """

    def parallel(self, agent: Agent) -> bool:
        """Whether ``agent``'s deliveries may run beside other agents'."""
        ...


@dataclass(frozen=True)
class Stop:
    """What stopping an agent's running turn did: ``done`` (a turn was stopped), ``how`` (the
    route's means), in words what it came to (``said``); ``failed``: it could not be done
    (not: nothing ran); ``idle_seen``: the route saw it at rest after the stop."""

    done: bool
    how: str
    said: str
    failed: bool = False
    idle_seen: bool = False  # the route saw the agent at rest after it (a tmux pane read idle)

    @classmethod
    def cannot(cls, how: str, said: str) -> Stop:
        """It could not be done, and why."""
        return cls(False, how, said, failed=True)


@runtime_checkable
class Route(Protocol):
    """One way swarm talks to an agent, a package of ``automation/``: ``name`` is ``"gui"``
    (desktop windows), ``"tmux"`` (panes), ``"protocol"`` (the agent's own protocol under a
    host) or ``"inbox"`` (files). The registry (``automation.routes``) holds the routes at
    hand and gives each agent the first that ``takes`` it; the inbox takes every agent.

    Every route answers every call for an agent it serves: one that cannot do a thing says so
    in its Receipt (``answer`` off the protocol route, ``press_keys`` on it or into files) or
    its ``Stop`` (a window or files have no way to stop a turn). Not part of the seam, as the
    routes share no shape for them: watching (a window's frames, a pane's text read by
    ``core.watch``, the host journals' timer ``HostJournals``, nothing for files) and up/down
    (``swarm desktop up`` opens windows, tmux sessions and hosts from the CLI's process, not
    the coordinator's; files have neither).
    """

    @property
    def name(self) -> str:
        """``"gui"``, ``"tmux"``, ``"protocol"`` or ``"inbox"``."""
        ...

    @property
    def time_limit_s(self) -> float:
        """The route's own deadline for one delivery, in seconds."""
        ...

    def takes(self, agent: Agent) -> bool:
        """Whether ``agent``'s messages go this way when this route is at hand."""
        ...

    def parallel(self, agent: Agent) -> bool:
        """Whether ``agent``'s deliveries may run beside other agents' (``Parallel``)."""
        ...

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Deliver once and say how it went; never raise for an expected failure."""
        ...

    async def answer(self, agent: Agent, request: str, option: str) -> Receipt:
        """Answer the agent's request ``request`` with the decided ``option``."""
        ...

    async def press_keys(self, agent: Agent, keys: Sequence[str]) -> Receipt:
        """Press ``keys`` (a decided prompt's answer) where the agent takes its input."""
        ...

    def can_stop(self, agent: Agent) -> bool:
        """Whether this route has a way to stop ``agent``'s running turn."""
        ...

    async def stop_turn(self, agent: Agent) -> Stop:
        """Stop ``agent``'s running turn, its task left as it is."""
        ...

    def close(self) -> None:
        """Release what the route holds (worker threads, X connections)."""
        ...


@runtime_checkable
class RoutesAgents(Protocol):
    """A deliverer that routes each agent (``Route``: desktop window, tmux pane, protocol
    host or inbox) and keeps its own list of the agents (where a stray paste may land): told
    when the agents file is reloaded."""

    def method_for(self, agent: Agent) -> str:
        """The ``name`` of the route ``agent`` gets its messages by."""
        ...

    def use_agents(self, agents: Sequence[Agent]) -> None:
        """Take the agents of a reloaded agents file."""
        ...


class Clock(Protocol):
    """Wall-clock time in seconds since the epoch; injected so tests control time."""

    def now(self) -> float:
        """The current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()


class ManualClock:
    """A clock that moves only when told to (tests, burst runs)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        """The current simulated time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += seconds


class Timer(Protocol):
    """Timed work of the scheduler loop (watch ticks, stored schedules): deadlines, not threads.

    The loop calls ``start`` once, sleeps until the earliest ``next_due`` of every timer (and
    of leases, backoffs and deliveries), calls ``fire`` when it is due, ``stop`` at the end.
    """

    async def start(self) -> None:
        """Prepare (e.g. run work that fell due while nothing ran, marked late)."""
        ...

    async def next_due(self) -> float | None:
        """The next moment (epoch seconds) this timer has work, or None."""
        ...

    async def fire(self) -> int:
        """Run whatever is due now; how many things ran."""
        ...

    async def stop(self) -> None:
        """Finish work in flight (bounded) and release what was opened."""
        ...


class PeriodicTimer(ABC):
    """A ``Timer`` that runs ``run`` at start and then every ``every_s`` of ``clock``."""

    def __init__(self, clock: Clock, every_s: float) -> None:
        self.clock = clock
        self.every_s = every_s
        self._next: float | None = None

    async def start(self) -> None:
        """The first run, at once."""
        await self.fire()

    async def next_due(self) -> float | None:
        """When the next run is due."""
        return self._next

    async def fire(self) -> int:
        """Run now and set the next run; what ``run`` counted."""
        self._next = self.clock.now() + self.every_s
        return await self.run()

    @abstractmethod
    async def run(self) -> int:
        """The periodic work; how many things it did."""

    async def stop(self) -> None:  # noqa: B027 - a hook; most periodic timers hold nothing
        """Nothing to release (a subclass that holds something overrides it)."""


class Observer(Protocol):
    """Told of timed work as it happens (metrics): ``delivery`` (seconds; labels agent,
    method, result), ``assignment`` (seconds of one round), ``discord_ack`` (seconds).
    Must be quick and must not raise."""

    def observe(self, name: str, value: float, labels: Mapping[str, str]) -> None:
        """Record one observation."""
        ...


class HostJournals(Protocol):
    """The protocol route's reading of its agents' host journals, a timer of one node
    (``automation.protocol.watch.ProtocolWatch``, handed to the node by the composition
    root): ``wake`` and ``turn_ended`` are the node's to set, ``ended_unwritten`` the agents
    whose turn's end was heard and not yet written (their next prompt may go)."""

    node: str | None
    wake: Callable[[], None]
    turn_ended: Callable[[str], None]
    ended_unwritten: set[str]

    async def start(self) -> None:
        """Start reading each protocol agent's host."""
        ...

    async def next_due(self) -> float | None:
        """When ``fire`` is due next (None: nothing to read)."""
        ...

    async def fire(self) -> int:
        """Write what came; how many entries."""
        ...

    async def stop(self) -> None:
        """Stop reading."""
        ...
