"""``swarm node``: a delivery node, the part of the swarm one desktop runs (PostgreSQL).

A node serves the agents whose ``node`` (agents file) is its name: it claims their due
deliveries (``core/delivery/_node_claims.py``: ``SKIP LOCKED``, a lease), puts each in front of
its agent with the normal deliverer (desktop driver or inbox, through
``Scheduler.deliver_one``, so prompts, onboarding and resets are the coordinator's), and
stores the receipts. Each agent's claims are a lane (the agents of a deliverer that serves
one at a time share one): lanes run on their own, the node claiming again for the agents
with no lane in flight meanwhile, so an agent slow to take its prompt holds up only its own
next delivery; a lane stores its receipts as it ends, with those of the lanes that ended
meanwhile (one transaction). It sleeps until PostgreSQL notifies one of its agents' channels
(``swarm_delivery_`` + md5 of the agent's id: a trigger on ``deliveries`` sends it when a
delivery is queued; the node hears only its own agents'), a lane ends, the next delayed
delivery or lease end of its agents falls due, or ``SAFETY_S`` passes (a notification lost
while the listener reconnected); it says it is alive every ``heartbeat_s``. With a watcher it
records its agents' screen activity and their tmux panes' text (observations and permission
prompts) every watch interval, and with ``keys`` it types the decided answers of their text
prompts into their windows on this desktop (the coordinator types only its own agents');
its ``timers`` (its agents' model gateways' watch, the agents file reloaded) fire when due,
and ``before_claim`` (the agents file looked at) runs before each claim: its agents' routes as
the file says now.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.coordinator.scheduler import Scheduler
from core.delivery import (
    RECEIPT_RETRY_FIRST_S,
    RECEIPT_RETRY_MAX_S,
    claim_queries,
    node_claims,
    prompt,
)
from core.delivery import queries as delivery_queries
from core.errors import ConfigError, Transient
from core.models import ClaimOutcome, Receipt
from core.protocols import Deliverer, HostJournals, Parallel, Timer
from core.service.swarm import SwarmService
from core.store.access import StoreAccess
from core.store.calls import urgent
from core.waits import Background, ErrorBackoff, first_of, wait_set

if TYPE_CHECKING:
    from core.coordinator.jobs import Watcher
    from core.coordinator.prompt_keys import PromptKeys

log = logging.getLogger(__name__)
BATCH = 8  # deliveries a claim takes when the deliverer serves its agents one at a time
SAFETY_S = 5.0  # the longest sleep without a notification
# how often a delivery left by the last claim (its agent mid-turn) is looked at again: a
# protocol turn's end wakes the node at once (heard from the host: ``HostJournals.turn_ended``;
# written by another process: ``message_queries.turn_over``); a hook's or a pane's end of a
# turn is seen at the next look
HELD_LOOK_S = 0.25
KEYS_POLL_S = 0.5  # how often the node looks for its agents' decided prompts to type
TIMER_POLL_S = 1.0  # the longest a timer of the node's (a gateway watch) waits unasked


LEASE_S = 60.0  # a claimed delivery's default lease
LEASE_MARGIN_S = 25.0  # beyond one delivery's time limit, when that is longer


def default_lease(limit: float | None) -> float:
    """A node's lease when none is given: ``LEASE_S``, or ``LEASE_MARGIN_S`` more than one
    delivery's time limit when that limit is not shorter (the desktop driver's 65 s: 90 s)."""
    if limit is None or limit < LEASE_S:
        return LEASE_S
    return limit + LEASE_MARGIN_S


class DeliveryNode:
    """Claims, delivers and records the deliveries of one node's agents."""

    def __init__(
        self,
        service: SwarmService,
        deliverer: Deliverer,
        name: str,
        *,
        lease_s: float | None = None,
        batch: int | None = None,
        heartbeat_s: float = 1.0,
        watcher: Watcher | None = None,
        keys: PromptKeys | None = None,
        protocol: HostJournals | None = None,
        timers: Sequence[Timer] = (),
        before_claim: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if not service.store.serves_nodes:
            raise ConfigError(
                "swarm node needs SWARM_DATABASE_URL: the PostgreSQL database that swarm run uses"
            )
        self.service = service
        self.name = name
        self.agents = sorted(a.id for a in service.agents.values() if a.node == name)
        if not self.agents:
            raise ConfigError(f"no agent has node = {name!r} in {service.settings.config_path}")
        limit = deliverer.time_limit_s  # the desktop driver's (or tmux's) deadline
        on_desktop = any(service.agents[a].delivery != "inbox" for a in self.agents)
        if lease_s is None:  # the default: 60 s, or longer than one delivery may take
            lease_s = default_lease(limit if on_desktop else None)
        elif on_desktop and limit is not None and lease_s <= limit:
            raise ConfigError(
                f"the lease ({lease_s:g} s) must be longer than one delivery's "
                f"time limit ({limit:g} s): raise --lease"
            )
        self.claimer = node_claims.Claimer(name, uuid.uuid4().hex[:8])  # this run (fencing)
        self.lease_s = lease_s
        self.batch = batch or self._batch_for(deliverer)
        self.heartbeat_s = heartbeat_s
        self.worker = Scheduler(service, deliverer)  # its delivery step only
        self.watcher = watcher
        if watcher is not None and watcher.node != name:
            raise ValueError(f"the watcher of node {watcher.node!r} given to node {name!r}")
        self.keys = keys  # types the decided text prompts of this node's agents
        if keys is not None and keys.node != name:
            raise ValueError(f"the prompt keys of node {keys.node!r} given to node {name!r}")
        self.protocol = protocol  # this node's protocol agents' host journals
        if protocol is not None and protocol.node != name:
            raise ValueError(f"the protocol watch of node {protocol.node!r} given to node {name!r}")
        self.timers = list(timers)  # this node's agents' other timed work (their gateways)
        self.before_claim = before_claim  # the agents file looked at (its agents' routes)
        self._protocol_wake = asyncio.Event()
        if protocol is not None:
            protocol.wake = self._protocol_wake.set
            protocol.turn_ended = self._heard  # its next prompt goes now, before the write
        self.delivered = 0
        self.lost = 0
        self._wake = asyncio.Event()
        self._lanes: dict[str, asyncio.Task[None]] = {}  # lanes in flight (``run``)
        self._lane_tasks = Background(f"node {name} lanes")
        self._claims_in_flight: dict[str, int] = {}  # their claims, by lane
        self._heard_busy: set[str] = set()  # lanes notified while in flight
        self._full = False  # the last claim took all it might
        self._claimed_at = 0.0  # when the last claim looked (what was due then, it took or left)
        self._freed = asyncio.Event()  # a lane ended
        self._unstored: list[tuple[node_claims.Claim, Receipt, bool]] = []
        self._storing = asyncio.Lock()
        self._started = service.clock.now()

    def _batch_for(self, deliverer: Deliverer) -> int:
        """How many deliveries a claim takes: every agent's at once when the deliverer serves
        them all side by side (protocol hosts, tmux panes, inbox files: a broadcast to the
        node's agents goes out in one round, not in rounds of ``BATCH`` each waiting for its
        slowest agent to take its prompt); else ``BATCH``."""
        side_by_side = isinstance(deliverer, Parallel) and all(
            deliverer.parallel(self.service.agents[a]) for a in self.agents
        )
        return max(BATCH, len(self.agents)) if side_by_side else BATCH

    @property
    def _db(self) -> StoreAccess:
        return self.service.store

    async def step(self) -> int:
        """Claim what is due, deliver it, store the receipts; how many were claimed."""
        self._wake.clear()
        claimed = await self.claim()
        await self.deliver(claimed)
        return len(claimed)

    async def claim(
        self, agents: list[str] | None = None, limit: int | None = None
    ) -> list[tuple[node_claims.Claim, prompt.PromptFacts | None]]:
        """Claim the due deliveries of this node's ``agents`` (all by default), up to
        ``limit`` (the batch) (and what their prompts need), ahead of the node's other
        store calls (its watch, journals and heartbeat wait: ``urgent``); the agents' routes
        first as the agents file says now (``before_claim``)."""
        if self.before_claim is not None:
            await self.before_claim()
        self._claimed_at = now = self.service.clock.now()
        heard_over = sorted(self.protocol.ended_unwritten) if self.protocol is not None else []
        with urgent():
            return await self._db.write_concurrent(
                _claim_with_facts,
                self.claimer,
                self.agents if agents is None else agents,
                now,
                self.lease_s,
                self.batch if limit is None else limit,
                self.service.settings.turn_hold_s,
                heard_over,
            )

    async def deliver(
        self, claimed: list[tuple[node_claims.Claim, prompt.PromptFacts | None]]
    ) -> list[ClaimOutcome]:
        """Deliver what is still this node's; store the receipts (one transaction).
        Different agents' deliveries go at once when the deliverer can (``Parallel``: tmux
        panes, inbox files); each agent's in order, the desktop driver's one at a time."""
        with urgent():
            return await self._deliver_claimed(claimed)

    async def _deliver_claimed(
        self, claimed: list[tuple[node_claims.Claim, prompt.PromptFacts | None]]
    ) -> list[ClaimOutcome]:
        lanes: dict[str, list[tuple[node_claims.Claim, prompt.PromptFacts | None]]] = {}
        for item in claimed:
            lanes.setdefault(self._lane(item[0].delivery.agent), []).append(item)
        done: list[tuple[node_claims.Claim, Receipt, bool]] = []
        ran = [self._deliver_lane(lane, done) for lane in lanes.values()]
        failed = [r for r in await asyncio.gather(*ran, return_exceptions=True) if r is not None]
        position = {held.delivery.id: n for n, (held, _) in enumerate(claimed)}
        done.sort(key=lambda d: position[d[0].delivery.id])
        states = await self._store(done) if done else []  # the other lanes' too on an error
        self.delivered += states.count(ClaimOutcome.delivered)
        self.lost += states.count(ClaimOutcome.lost)
        if failed:
            raise failed[0]
        return states

    def _lane(self, agent: str) -> str:
        """The agent's own lane when the deliverer serves it beside others; else the one
        shared lane ("")."""
        deliverer = self.worker.deliverer
        found = self.service.agents.get(agent)
        if isinstance(deliverer, Parallel) and found is not None and deliverer.parallel(found):
            return agent
        return ""

    async def _deliver_lane(
        self,
        lane: list[tuple[node_claims.Claim, prompt.PromptFacts | None]],
        done: list[tuple[node_claims.Claim, Receipt, bool]],
    ) -> None:
        """Deliver one lane's claims one after another (those still this node's), each
        added to ``done`` as it ends."""
        for held, facts in lane:
            if self.service.clock.now() >= held.until and not await self._db.read(
                node_claims.holds, self.claimer, held.delivery.id
            ):
                self.lost += 1  # another node took it after the lease: never deliver it
                continue
            log.debug(
                "timing: delivery %d to %s: claimed at %.3f, delivering %.0f ms later",
                held.delivery.id,
                held.delivery.agent,
                held.claimed_at,
                (self.service.clock.now() - held.claimed_at) * 1000,
            )
            receipt, onboarded = await self.worker.deliver_one(held.delivery, facts)
            done.append((held, receipt, onboarded))

    async def _store_lane(self, done: list[tuple[node_claims.Claim, Receipt, bool]]) -> None:
        """Store a lane's receipts, with those of the lanes that ended while the last
        receipts were being written (one transaction for them all)."""
        self._unstored += done
        async with self._storing:
            group, self._unstored = self._unstored, []
            if not group:
                return  # stored with an earlier lane's
            states = await self._store(group)
        self.delivered += states.count(ClaimOutcome.delivered)
        self.lost += states.count(ClaimOutcome.lost)
        log.debug(
            "timing: receipts of deliveries %s stored at %.3f",
            ",".join(str(held.delivery.id) for held, _, _ in group),
            self.service.clock.now(),
        )

    async def _store(
        self, done: list[tuple[node_claims.Claim, Receipt, bool]]
    ) -> list[ClaimOutcome]:
        """The receipts in one transaction, retried with backoff while the database refuses
        (until the claims' lease ends: after it they may go out again anyway)."""
        backoff = ErrorBackoff(RECEIPT_RETRY_FIRST_S, RECEIPT_RETRY_MAX_S)
        until = min(held.until for held, _, _ in done)
        while True:
            try:
                states: list[ClaimOutcome] = await self.service.store.write(
                    self.name,
                    node_claims.finish,
                    self.claimer,
                    done,
                    self.service.queue.on_failed_prompt,
                )
                return states
            except Transient as exc:
                delay = backoff.failed()
                if self.service.clock.now() + delay >= until:
                    raise
                log.warning(
                    "node %s: receipts not written (%s); retrying in %.2g s", self.name, exc, delay
                )
            await asyncio.sleep(delay)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set: listen, heartbeat, claim and deliver."""
        log.info("node %s serves %s", self.name, ", ".join(self.agents))
        helpers = Background(f"node {self.name}")
        helpers.start(self._listen(), name="node-listen")
        helpers.start(self._heartbeats(stop), name="node-heartbeat")
        if self.watcher is not None:
            helpers.start(self._watch(stop), name="node-watch")
        if self.keys is not None:
            helpers.start(self._type_prompts(stop), name="node-keys")
        if self.protocol is not None:
            helpers.start(self._read_hosts(stop), name="node-protocol")
        for timer in self.timers:
            helpers.start(self._run_timer(timer, stop), name=f"node-{type(timer).__name__}")
        try:
            due = True
            while not stop.is_set():
                if due:
                    try:
                        if await self.pipeline_step() or self._wake.is_set():
                            continue  # maybe more is due: claim again before sleeping
                    except Exception:
                        log.exception("node %s: step failed; next try in 1 s", self.name)
                        await _wait(stop, 1.0)
                        continue
                due = await self._sleep(stop)
        finally:
            await helpers.close()
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)

    async def pipeline_step(self) -> bool:
        """Claim what is due for the agents with no lane in flight and start their lanes
        without waiting for them: an agent's delivery goes out while another agent is still
        taking its prompt (an agent's deliveries stay one lane at a time, in order). Each
        lane stores its receipts as it ends. True when the claim took all it might (more
        may be due)."""
        self._wake.clear()
        free = self._free_agents()
        room = self.batch - sum(self._claims_in_flight.values())
        if not free or room <= 0:
            return False
        claimed = await self.claim(free, room)
        self._full = len(claimed) >= room
        lanes: dict[str, list[tuple[node_claims.Claim, prompt.PromptFacts | None]]] = {}
        for item in claimed:
            lanes.setdefault(self._lane(item[0].delivery.agent), []).append(item)
        for key, lane in lanes.items():
            self._lanes[key] = self._lane_tasks.start(self._run_lane(key, lane), name="node-lane")
            self._claims_in_flight[key] = len(lane)
        return self._full

    def _free_agents(self) -> list[str]:
        """This node's agents whose lane is not in flight."""
        return [a for a in self.agents if self._lane(a) not in self._lanes]

    async def _run_lane(
        self, key: str, lane: list[tuple[node_claims.Claim, prompt.PromptFacts | None]]
    ) -> None:
        """Deliver one lane and store its receipts; then free it: the loop claims again at
        once when one of its agents was notified meanwhile or the last claim was full, else
        it only looks anew when the next delivery is due. Its store calls (the prompt's
        reads and the turn's record, the receipts) go ahead of the node's others."""
        done: list[tuple[node_claims.Claim, Receipt, bool]] = []
        try:
            with urgent():
                try:
                    await self._deliver_lane(lane, done)
                finally:
                    if done:
                        await self._store_lane(done)
        except Exception:
            log.exception("node %s: delivering to %s failed", self.name, key or "its agents")
        finally:
            self._lanes.pop(key, None)
            self._claims_in_flight.pop(key, None)
            self._claimed_at = 0.0  # its agents' due deliveries: not looked at by that claim
            if key in self._heard_busy or self._full:
                self._heard_busy.discard(key)
                self._wake.set()
            self._freed.set()

    async def _sleep(self, stop: asyncio.Event) -> bool:
        """Until a wake-up, the next due delivery of the agents with no lane in flight, a lane
        ending, or ``SAFETY_S`` (``HELD_LOOK_S`` while the last claim left one that was due:
        not every end of a turn wakes the node); True when a claim is due (not a lane ending
        alone)."""
        self._freed.clear()
        free = self._free_agents()
        room = self.batch > sum(self._claims_in_flight.values())
        due, held = None, False
        if free and room:
            with urgent():  # a wake-up during it is claimed only after it
                due, held = await self._db.read(claim_queries.next_due, free, self._claimed_at)
        timeout = HELD_LOOK_S if held else SAFETY_S
        if due is not None:
            timeout = min(timeout, max(0.0, due - self.service.clock.now()) + 0.01)
        await first_of(self._wake.wait(), stop.wait(), self._freed.wait(), limit_s=timeout)
        return self._wake.is_set() or not self._freed.is_set()

    async def _listen(self) -> None:
        """LISTEN on this node's agents' delivery channels (``swarm_delivery_<md5>``: the
        server sends it only its own agents' wake-ups); wake on a notification naming one of
        them (and each time it listens anew: catch up with what was queued meanwhile). One
        for an agent whose lane is in flight is kept for when that lane ends."""
        mine = set(self.agents)

        def heard(_pid: int, payload: str) -> None:
            if payload in mine:
                self._heard(payload)

        def anew() -> None:
            self._heard_busy.update(self._lanes)
            self._wake.set()

        what = f"node {self.name}: listening"
        await self.service.store.listen("deliveries", heard, anew, what, self.agents)

    def _heard(self, agent: str) -> None:
        lane = self._lane(agent)
        if lane in self._lanes:
            self._heard_busy.add(lane)
        else:
            self._wake.set()

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        host, pid = socket.gethostname(), os.getpid()
        while not stop.is_set():
            try:
                await self._db.write_concurrent(
                    delivery_queries.heartbeat,
                    self.name,
                    self.agents,
                    host,
                    pid,
                    self._started,
                    self.service.clock.now(),
                )
            except Exception:
                log.exception("node %s: heartbeat failed", self.name)
            await _wait(stop, self.heartbeat_s)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Sample the agents' screens and store their activity, every watch interval."""
        assert self.watcher is not None
        while not stop.is_set():
            try:
                await self.watcher.record()
            except Exception:
                log.exception("node %s: screen watch failed", self.name)
            await _wait(stop, self.watcher.settings.interval_s)

    async def _type_prompts(self, stop: asyncio.Event) -> None:
        """Type the decided answers of this node's agents' text prompts into their windows
        (on this desktop), when due; looked for every ``KEYS_POLL_S``."""
        assert self.keys is not None
        while not stop.is_set():
            try:
                due = await self.keys.next_due()
                if due is not None and due <= self.service.clock.now():
                    await self.keys.fire()
            except Exception:
                log.exception("node %s: typing a prompt's answer failed", self.name)
            await _wait(stop, KEYS_POLL_S)

    async def _run_timer(self, timer: Timer, stop: asyncio.Event) -> None:
        """Fire ``timer`` when it is due (looked at least every ``TIMER_POLL_S``) until
        ``stop``; a failed firing is logged, and it is fired again at its next due."""
        await timer.start()
        try:
            while not stop.is_set():
                try:
                    due = await timer.next_due()
                    now = self.service.clock.now()
                    if due is not None and due <= now:
                        await timer.fire()
                        continue
                    wait = TIMER_POLL_S if due is None else min(TIMER_POLL_S, due - now)
                except Exception:
                    log.exception("node %s: %s failed", self.name, type(timer).__name__)
                    wait = TIMER_POLL_S
                await _wait(stop, wait)
        finally:
            await timer.stop()

    async def _read_hosts(self, stop: asyncio.Event) -> None:
        """Write what this node's protocol agents' hosts say, as it comes."""
        assert self.protocol is not None
        await self.protocol.start()
        try:
            while not stop.is_set():
                try:
                    self._protocol_wake.clear()  # a wake for entries already written: spent
                    due = await self.protocol.next_due()
                    now = self.service.clock.now()
                    if due is not None and due <= now:
                        await self.protocol.fire()
                        continue
                    wait = 1.0 if due is None else min(1.0, due - now)
                    await wait_set(self._protocol_wake, wait)
                except Exception:
                    log.exception("node %s: reading a protocol host failed", self.name)
                    await _wait(stop, 1.0)
        finally:
            await self.protocol.stop()


def _claim_with_facts(
    conn: Any,
    node: node_claims.Claimer,
    agents: list[str],
    now: float,
    lease_s: float,
    limit: int,
    hold_s: float,
    turn_heard_over: list[str],
) -> list[tuple[node_claims.Claim, prompt.PromptFacts | None]]:
    """The claims and, in the same transaction, what each task prompt needs."""
    claims = node_claims.claim(conn, node, agents, now, lease_s, limit, hold_s, turn_heard_over)
    return [
        (held, prompt.facts_from(conn, held.delivery, held.fresh_agent, held.handed_over))
        for held in claims
    ]


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    await wait_set(stop, seconds)
