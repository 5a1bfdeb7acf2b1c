"""Prompts into the real agent CLIs by the protocol route and by tmux, alternating in one run
(issue 50, item 8).

Run: ``.venv/bin/python bench/protocol_delivery.py [--cli gemini ...] [--prompts 200] [--json]``.
Per CLI that speaks a protocol (Claude Code, Codex, Gemini CLI, opencode), two agents on one
swarm home (SQLite), each against its own localmodel with the same script: ``T`` in a tmux pane
(tests/agents/launch.py, as in bench/real_delivery.py) and ``P`` under its protocol host
(automation/protocol/launch.py), started with the same argv and environment
(``protocol_command`` adds the protocol's flags or adapter). Each prompt is a message to one of
them, T then P, delivered by swarm's own Scheduler through ``build_deliverer``'s
RoutingDeliverer; the next once the turn ended (T: its pane still; P: the host journal's
``turn_end``, taken in by swarm's ProtocolWatch). Every prompt carries a unique marker, found in
its model's record: lost, doubled and whole as tests/agents/deliveries.py says; for P also the
turns swarm recorded.

Turn start: from the delivery's claim (the scheduler's ``claim_prompt`` returning it) to the
CLI's first model request with the marker, both routes. P's swarm time: claim to receipt less
the agent's wait for its first update (the journal's ``turn`` entry to the next ``update``, or
the turn's end). CPU per prompt: this process while swarm's scheduler and watch run (with the
tmux commands it ran), and P's host process. Ratios are protocol / tmux of this run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from automation.protocol import launch as hosts  # noqa: E402
from automation.protocol.watch import ProtocolWatch  # noqa: E402
from automation.routes import RoutingDeliverer, build_deliverer  # noqa: E402
from bench.day_at_scale import percentiles  # noqa: E402
from bench.real_delivery import SCRIPT, each_cli  # noqa: E402
from core import clis  # noqa: E402
from core.agents import Freshness  # noqa: E402
from core.coordinator.scheduler import Scheduler  # noqa: E402
from core.hosts import running, wire  # noqa: E402
from core.models import DeliveryState  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.agents.deliveries import (  # noqa: E402
    MAIN_PATHS,
    Tally,
    prompt_text,
    requests_with,
    settle,
    wait_taken_by,
)
from tests.agents.launch import SETUPS, _git, launch, stop  # noqa: E402
from tests.agents.live import LiveCLI, LocalModel, require_binary  # noqa: E402

CLIS = tuple(c.name for c in clis.CLIS if c.speaks_protocol)
ROUTES = ("tmux", "protocol")
AGENT = {"tmux": "T", "protocol": "P"}
ACCEPTED = (wire.UPDATE, wire.TURN_END, wire.TURN_ERROR)
DELIVER_S = 60.0  # a prompt not delivered by then is lost (the scheduler's retries included)
TURN_S = 60.0  # a protocol turn not ended by then is left running (said in failures)


@dataclass
class Route:
    """One route's agent and what happened to its prompts."""

    tally: Tally
    model: LocalModel
    markers: list[str] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)
    own_s: list[float] = field(default_factory=list)  # protocol: swarm's own time
    before_s: list[float] = field(default_factory=list)  # claim -> the prompt sent (host)
    after_s: list[float] = field(default_factory=list)  # first update -> receipt
    waits_s: list[float] = field(default_factory=list)  # the prompt sent -> its first update
    cpu_s: float = 0.0


class Journal:
    """P's host journal, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.entries: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        """Every entry so far."""
        with self.path.open("rb") as journal:
            journal.seek(self.offset)
            chunk = journal.read()
        whole = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(whole)
        self.entries += [wire.decode(line) for line in whole.splitlines() if line.strip()]
        return self.entries

    def turn(self, delivery: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        """The delivery's ``turn`` entry, the first entry accepting it, whether it ended."""
        entries = self.read()
        start = next((e for e in entries if e["type"] == wire.TURN
                      and e.get("delivery") == delivery), None)  # fmt: skip
        if start is None:
            return None, None, False
        later = [e for e in entries if e["seq"] > start["seq"]]
        accepted = next((e for e in later if e["type"] in ACCEPTED), None)
        ended = any(e["type"] in (wire.TURN_END, wire.TURN_ERROR)
                    and e.get("delivery") == delivery for e in later)  # fmt: skip
        return start, accepted, ended


class Bench:
    """swarm's coordinator parts on the home: the store, the routing deliverer, the
    scheduler and the protocol watch, with each delivery's claim and receipt times."""

    def __init__(self, service: SwarmService, deliverer: RoutingDeliverer, home: Path) -> None:
        self.service = service
        self.deliverer = deliverer
        self.scheduler = Scheduler(service, deliverer)
        self.watch = ProtocolWatch(service, Freshness())
        self.journal = Journal(wire.journal_path(home, AGENT["protocol"]))
        self.home = home
        self.claimed: dict[int, float] = {}
        self.receipted: dict[int, float] = {}
        queue = service.queue
        claim, record = queue.claim_prompt, queue.record_receipt

        async def timed_claim(*args: Any, **kwargs: Any) -> Any:
            got = await claim(*args, **kwargs)
            if got is not None:
                self.claimed[got[0].id] = time.time()
            return got

        async def timed_record(delivery: Any, *args: Any, **kwargs: Any) -> Any:
            self.receipted[delivery.id] = time.time()
            return await record(delivery, *args, **kwargs)

        queue.claim_prompt = timed_claim  # type: ignore[method-assign]
        queue.record_receipt = timed_record  # type: ignore[method-assign]

    async def deliver(self, route: Route, agent: str, text: str) -> tuple[int, bool, float]:
        """``text`` sent to ``agent`` and delivered by the scheduler (retried as it retries);
        the delivery's id, whether it was delivered, and swarm's CPU seconds in it."""
        message = await self.service.messages.send(agent, text, "bench")
        deadline, cpu = time.monotonic() + DELIVER_S, 0.0
        while True:
            cpu -= _own_cpu()
            await self.scheduler.run_burst()
            cpu += _own_cpu()
            (delivery,) = await self.service.messages.deliveries(message)
            if delivery.state is not DeliveryState.queued or time.monotonic() > deadline:
                break
            route.tally.retries += 1
            route.tally.failures.append(f"{agent} #{delivery.id}: {delivery.reason}")
            await asyncio.sleep(0.5)
        return delivery.id, delivery.state is DeliveryState.delivered, cpu

    async def turn_ended(self, delivery: int) -> float:
        """Until the host's journal ends ``delivery``'s turn (swarm's watch taking it in);
        the watch's CPU seconds."""
        deadline, cpu = time.monotonic() + TURN_S, 0.0
        while time.monotonic() < deadline:
            cpu -= _own_cpu()
            await self.watch.fire()
            cpu += _own_cpu()
            if self.journal.turn(delivery)[2]:
                cpu -= _own_cpu()
                await asyncio.sleep(0.05)  # the reader has the entry by now
                await self.watch.fire()
                return cpu + _own_cpu()
            await asyncio.sleep(0.05)
        return cpu

    def host_cpu(self) -> float:
        """P's host process's CPU seconds so far (not its agent's)."""
        pid = running.host_pid(self.home, AGENT["protocol"])
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """This process's CPU seconds, and its ended children's (tmux commands)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


async def one(bench: Bench, live: LiveCLI, name: str, route: Route, n: int) -> None:
    """Prompt ``n`` by ``name``'s route, counted."""
    tally, agent = route.tally, AGENT[name]
    marker = f"m{n:04d}{agent}-{uuid.uuid4().hex[:6]}"
    text = prompt_text(n, marker)
    tally.prompts += 1
    host0 = bench.host_cpu()
    delivery, delivered, cpu = await bench.deliver(route, agent, text)
    found = wait_taken_by(route.model, MAIN_PATHS[tally.cli], marker, 30 if delivered else 5)
    if name == "protocol":
        cpu += await bench.turn_ended(delivery)
        cpu += bench.host_cpu() - host0
        _own_time(bench, route, delivery)
    else:
        settle(live)
    route.cpu_s += cpu
    route.markers.append(marker)
    route.deliveries.append(delivery)
    tally.count(marker, text, delivered, found, bench.claimed.get(delivery, time.time()))


def _own_time(bench: Bench, route: Route, delivery: int) -> None:
    """swarm's own time in a protocol delivery: claim to receipt, less the agent's wait."""
    start, accepted, _ = bench.journal.turn(delivery)
    claimed, receipted = bench.claimed.get(delivery), bench.receipted.get(delivery)
    if start is None or accepted is None or claimed is None or receipted is None:
        route.tally.failures.append(f"P #{delivery}: no turn or accept in the journal")
        return
    route.before_s.append(start["at"] - claimed)
    route.after_s.append(receipted - accepted["at"])
    route.own_s.append(receipted - claimed - (accepted["at"] - start["at"]))
    route.waits_s.append(accepted["at"] - start["at"])


def agents_toml(cli: str, live: LiveCLI, work: Path) -> str:
    """T on ``live``'s pane (the keys of tests/agents/launch.py's ``agent_of``), P hosted."""
    return (
        f'[[agent]]\nid = "T"\nrole = "dev"\ncli = "{cli}"\ndelivery = "tmux"\n'
        f'app = "terminal"\ntmux = "{live.target}"\ntmux_socket = "{live.tmux.socket}"\n'
        f'clear = ["ctrl+e", "ctrl+u"]\npaste = "ctrl+shift+v"\nsubmit = "enter"\n'
        f'workspace = "{live.root / "work"}"\n\n'
        f'[[agent]]\nid = "P"\nrole = "dev"\ncli = "{cli}"\ndelivery = "protocol"\n'
        f'app = "terminal"\nworkspace = "{work}"\n'
    )


async def start_host(cli: str, root: Path, home: Path, config: Path) -> LocalModel:
    """P's model and host (the CLI's argv as tests/agents/launch.py has it); its model."""
    work = root / "work"
    work.mkdir(parents=True)
    _git(work)
    model = LocalModel(root, SCRIPT)
    own = clis.by_name(cli)
    assert own is not None and own.protocol is not None, cli
    setup = SETUPS[cli](require_binary(cli), root / "home", work, model.url)
    command = clis.protocol_command(shlex.join(setup.argv), own)
    env = {**setup.env, "SWARM_AGENT": "P", "SWARM_HOME": str(home),
           "SWARM_CONFIG": str(config), "PYTHONPATH": str(ROOT)}  # fmt: skip
    try:
        await hosts.start(home, "P", command, work, env, protocol=own.protocol)
    except BaseException:
        model.stop()
        raise
    return model


async def calibrate(bench: Bench, live: LiveCLI, name: str, route: Route) -> None:
    """A first prompt (and the agent's onboarding): the model requests one turn makes."""
    marker = f"calibrate{AGENT[name]}-{uuid.uuid4().hex[:8]}"
    delivery, _, _ = await bench.deliver(route, AGENT[name], f"{marker} please reply briefly")
    wait_taken_by(route.model, MAIN_PATHS[route.tally.cli], marker, 60)
    if name == "protocol":
        await bench.turn_ended(delivery)
    else:
        settle(live)
    found = requests_with(route.model, MAIN_PATHS[route.tally.cli], marker)
    route.tally.per_turn = max(1, len(found))
    route.tally.failures.clear()
    route.tally.retries = 0


async def run_cli(cli: str, root: Path, prompts: int) -> dict[str, Any]:
    """Both agents of ``cli``, ``prompts`` prompts each, alternating; the figures."""
    home, config = root / "swarm", root / "agents.toml"
    home.mkdir(parents=True)
    live = launch(cli, root / "tmux", SCRIPT)
    try:
        config.write_text(agents_toml(cli, live, root / "protocol" / "work"), encoding="utf-8")
        model = await start_host(cli, root / "protocol", home, config)
        try:
            return await _alternate(cli, live, model, home, config, prompts)
        finally:
            await hosts.stop(home, "P")
            model.stop()
    finally:
        stop(live)


async def _alternate(
    cli: str, live: LiveCLI, model: LocalModel, home: Path, config: Path, prompts: int
) -> dict[str, Any]:
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    service = await SwarmService.open(settings)
    deliverer = build_deliverer(settings, list(service.agents.values()), service.kill_switch)
    bench = Bench(service, deliverer, home)
    await bench.watch.start()
    routes = {"tmux": Route(Tally(cli), live.model), "protocol": Route(Tally(cli), model)}
    started = time.monotonic()
    try:
        settle(live, quiet_s=1.0)
        for name, route in routes.items():
            await calibrate(bench, live, name, route)
        for n in range(1, prompts + 1):
            for name, route in routes.items():
                await one(bench, live, name, route, n)
        await asyncio.sleep(2.0)  # a late second request of the last prompts
        await bench.watch.fire()
        turns = await _turns(service)
    finally:
        await bench.watch.stop()
        deliverer.close()
        await service.close()
    return figures(cli, routes, turns, time.monotonic() - started)


async def _turns(service: SwarmService) -> dict[int, int]:
    """How many ``agent.turn`` events swarm recorded for each delivery."""
    counted: dict[int, int] = {}
    for event in await service.history.events(0, 1_000_000):
        if event.kind == "agent.turn" and (event.data or {}).get("delivery") is not None:
            delivery = int((event.data or {})["delivery"])
            counted[delivery] = counted.get(delivery, 0) + 1
    return counted


def route_figures(route: Route, turns: dict[int, int] | None) -> dict[str, Any]:
    """One route's counts (doubled recounted at the end), times and CPU."""
    tally, path = route.tally, MAIN_PATHS[route.tally.cli]
    tally.doubled = [m for m in route.markers
                     if len(requests_with(route.model, path, m)) > tally.per_turn]  # fmt: skip
    shown = tally.summary()
    shown["per_turn"] = tally.per_turn
    shown["cpu_ms_per_prompt"] = round(route.cpu_s * 1000 / max(1, tally.prompts), 1)
    if turns is not None:
        shown["turns_recorded_missing"] = sum(turns.get(d, 0) == 0 for d in route.deliveries)
        shown["turns_recorded_twice"] = sum(turns.get(d, 0) > 1 for d in route.deliveries)
        shown["swarm_own"] = percentiles(route.own_s)
        shown["claim_to_prompt_sent"] = percentiles(route.before_s)
        shown["first_update_to_receipt"] = percentiles(route.after_s)
        shown["agent_wait_for_first_update"] = percentiles(route.waits_s)
        shown["slowest_own_ms"] = _slowest(route)
    return shown


def _slowest(route: Route, count: int = 3) -> list[dict[str, float]]:
    """The protocol route's slowest own times, with their parts (ms)."""
    rows = zip(route.own_s, route.before_s, route.after_s, route.waits_s, strict=True)
    return [
        {"own": round(own * 1000, 1), "claim_to_sent": round(before * 1000, 1),
         "update_to_receipt": round(after * 1000, 1), "agent_wait": round(wait * 1000, 1)}
        for own, before, after, wait in sorted(rows, reverse=True)[:count]
    ]  # fmt: skip


def figures(cli: str, routes: dict[str, Route], turns: dict[int, int], wall: float) -> dict:
    """Both routes' figures and protocol / tmux."""
    tmux = route_figures(routes["tmux"], None)
    protocol = route_figures(routes["protocol"], turns)
    pairs = {
        "turn_start_p50": ("turn_start_ms_p50",),
        "turn_start_p99": ("turn_start_ms_p99",),
        "cpu_per_prompt": ("cpu_ms_per_prompt",),
    }
    ratio = {
        name: round(protocol[key] / tmux[key], 2) if protocol[key] and tmux[key] else None
        for name, (key,) in pairs.items()
    }
    return {"cli": cli, "wall_s": round(wall), "tmux": tmux, "protocol": protocol,
            "ratio_protocol_over_tmux": ratio}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", action="append", choices=CLIS, help="default: all four")
    parser.add_argument("--prompts", type=int, default=200, help="per route and CLI")
    parser.add_argument("--json", action="store_true", help="one JSON list at the end")
    args = parser.parse_args()
    await each_cli(args.cli or CLIS, lambda cli, root: run_cli(cli, root, args.prompts), args.json)


if __name__ == "__main__":
    asyncio.run(main())
