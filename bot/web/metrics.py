"""``GET /metrics``: Prometheus text from the swarm's own registry (never the global one).

Two kinds of figures. What lives in the database (tasks by status, agents by state, stalls,
nudges, AI tokens and cost, the notifier loops' lag and failures) is read at each scrape,
so ``swarm web`` in its own process shows it too. What happens in-process (each delivery's
result and latency, each assignment decision, each Discord interaction's acknowledgement)
reaches ``Metrics.observe`` through ``SwarmService.observers``: those are counted by the
process that does the work (``swarm run``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.costs.ledger import Spent
from core.posts.health import notifier_health
from core.posts.queries import LoopHealth
from core.reports.dashboard import Snapshot
from core.service.swarm import SwarmService

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3)
AGENT_STATES = ("idle", "working", "waiting", "limited", "errored", "stalled", "offline", "unknown")


class Metrics:
    """The in-process counters and histograms; an observer of ``SwarmService``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.deliveries = Counter(
            "swarm_deliveries",
            "Delivery attempts by agent, method and result",
            ["agent", "method", "result"],
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "swarm_delivery_seconds",
            "Time to deliver one prompt, by agent",
            ["agent"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.assignment_seconds = Histogram(
            "swarm_assignment_decision_seconds",
            "Time of one round of assignment decisions",
            buckets=FAST_BUCKETS,
            registry=self.registry,
        )
        self.discord_ack_seconds = Histogram(
            "swarm_discord_ack_seconds",
            "From a Discord interaction's creation to its answer",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, name: str, value: float, labels: Mapping[str, str]) -> None:
        """Record one observation reported by core (``core.protocols.Observer``)."""
        if name == "delivery":
            agent = labels.get("agent", "")
            self.deliveries.labels(agent, labels.get("method", ""), labels.get("result", "")).inc()
            self.delivery_seconds.labels(agent).observe(value)
        elif name == "assignment":
            self.assignment_seconds.observe(value)
        elif name == "discord_ack":
            self.discord_ack_seconds.observe(value)

    async def render(self, service: SwarmService) -> bytes:
        """The whole exposition: the in-process registry, then the database's figures, read
        after it (a delivery it counts has its task's state in them: no older read of the
        database beside a newer count)."""
        counted = generate_latest(self.registry)
        snapshot = await service.reports.snapshot()
        agents = await service.roster.rows()
        scrape = CollectorRegistry(auto_describe=True)
        scrape.register(_SnapshotCollector(snapshot, agents, await notifier_health(service.posts)))
        scrape.register(_TurnCostCollector((await service.costs.spend())["agent"], agents))
        return counted + generate_latest(scrape)


class _SnapshotCollector(Collector):
    def __init__(
        self, snapshot: Snapshot, agents: list[dict[str, Any]], loops: list[LoopHealth]
    ) -> None:
        self.snapshot = snapshot
        self.agents = agents
        self.loops = loops

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield _gauge("swarm_tasks", "Tasks by status", "status", snap.tasks)
        states = {state: 0 for state in AGENT_STATES}
        for row in self.agents:
            states[row["state"]] = states.get(row["state"], 0) + 1
        yield _gauge("swarm_agents", "Agents by state", "state", states)
        yield _counter("swarm_stalls", "Stall alerts opened, by agent", "agent", snap.stalls)
        yield _counter("swarm_nudges", "Nudges sent to agents, by agent", "agent", snap.nudges)
        tokens = CounterMetricFamily(
            "swarm_ai_tokens", "AI tokens used, by model and kind", labels=["model", "kind"]
        )
        cost = CounterMetricFamily(
            "swarm_ai_cost", "AI cost (configured prices), by model", labels=["model"]
        )
        for model, prompt, completion, spent in snap.usage:
            tokens.add_metric([model, "prompt"], prompt)
            tokens.add_metric([model, "completion"], completion)
            cost.add_metric([model], spent)
        yield tokens
        yield cost
        yield from _notifier_metrics(self.loops)


class _TurnCostCollector(Collector):
    """The agents' turns in the cost ledger: tokens by kind, dollars of the turns whose cost
    is known, and how many turns have none, by agent and account."""

    def __init__(self, spent: list[Spent], agents: list[dict[str, Any]]) -> None:
        self.spent = spent
        self.accounts = {row["id"]: str(row.get("account") or "") for row in agents}

    def collect(self) -> Iterator[Metric]:
        labels = ["agent", "account"]
        tokens = CounterMetricFamily(
            "swarm_turn_tokens", "Agents' turn tokens, by kind", labels=[*labels, "kind"]
        )
        cost = CounterMetricFamily(
            "swarm_turn_cost_usd", "Agents' turn cost in dollars (known costs)", labels=labels
        )
        unknown = CounterMetricFamily(
            "swarm_turns_unknown_cost", "Agents' turns whose cost is unknown", labels=labels
        )
        for s in self.spent:
            who = [s.key, self.accounts.get(s.key, "")]
            for kind, count in (
                ("input", s.input),
                ("output", s.output),
                ("cache_read", s.cache_read),
                ("cache_write", s.cache_write),
            ):
                tokens.add_metric([*who, kind], count)  # fmt: skip
            cost.add_metric(who, s.cost_usd)
            unknown.add_metric(who, s.unknown)
        yield tokens
        yield cost
        yield unknown


def _notifier_metrics(loops: list[LoopHealth]) -> Iterator[Metric]:
    """Each notifier loop's lag (the age of its oldest event not handled yet) and failures:
    tried again, skipped (refused for good), posted anew (the live message was gone)."""
    lag = GaugeMetricFamily(
        "swarm_notifier_lag_seconds",
        "Age of the oldest event a notifier loop has not handled yet, by loop",
        labels=["loop"],
    )
    failures = CounterMetricFamily(
        "swarm_notifier_failures",
        "Posts that failed, by notifier loop and outcome (retried, skipped, reposted)",
        labels=["loop", "outcome"],
    )
    for loop in loops:
        lag.add_metric([loop.consumer], loop.behind_s)
        for outcome in ("retried", "skipped", "reposted"):
            failures.add_metric([loop.consumer, outcome], getattr(loop, outcome))
    yield lag
    yield failures


def _gauge(name: str, doc: str, label: str, values: Mapping[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _counter(name: str, doc: str, label: str, values: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
