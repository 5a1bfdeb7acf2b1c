"""A day with a usage limit (issue 51, item 7): 24 agents on three accounts, one account
limited an hour in; its breaker (today's code) against per-agent limits, each read against
the same day with no limit, in the same process.

Each day runs swarm's real service, scheduler (``run_burst``) and watcher (``tick``: the
judge, the breaker, the limit hand-on) over a real SQLite file, on a simulated clock: each
minute the tasks due are reported done, then the scheduler and the agents answer each other
until no prompt is given (a report wakes the real scheduler). The agents are functions:
given a task's prompt, an agent reports it started, shows hook ``working`` each minute and
reports it done after the task's minutes (the same in every day), its hook ``Stop`` then.
From ``--limit-at`` after the start until its reset ``--reset-after`` later, an agent of
``anthropic-team`` given a prompt answers with the limit and its reset instead (the limited
observation ``core.agents._signals.record`` keeps, as for a pane showing "You've hit your
usage limit"); its task goes back when its lease (``SWARM_LEASE``) or the hand-on
(``SWARM_LIMIT_HANDOFF``) runs out, 300 s each by default. Turns begun before the limit
finish. Per-agent limits: ``core.accounts.breaker.limit_seen`` is replaced, for that day
only, by one that answers False, as it does for an agent alone on its account (no user
setting turns the breaker off).

Run: ``.venv/bin/python bench/limits_day.py [--tasks 300] [--seed 1] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from bot.app import Builder  # noqa: E402
from bot.config import Config  # noqa: E402
from core.accounts import breaker  # noqa: E402
from core.agent_state import AgentState, Observation, Signal  # noqa: E402
from core.agents import signals as agent_signals  # noqa: E402
from core.coordinator.jobs import Watcher  # noqa: E402
from core.coordinator.scheduler import Scheduler  # noqa: E402
from core.models import Receipt, TaskSpec, TaskStatus  # noqa: E402
from core.protocols import ManualClock, Parcel  # noqa: E402
from core.service.swarm import SwarmService  # noqa: E402
from core.store.conn import Conn  # noqa: E402
from core.watch.settings import WatchSettings  # noqa: E402

ACCOUNTS = (("anthropic-team", "claude-code"), ("openai-team", "codex"), ("google-team", "gemini"))
LIMITED = ACCOUNTS[0][0]
ROLES = ("dev",) * 5 + ("qa",) * 2 + ("docs",)  # each account's 8 agents
TASK_ROLES = ("dev",) * 13 + ("qa",) * 5 + ("docs",) * 2
STEP_S = 60.0
DAY_CAP_S = 24 * 3600.0
MOVING = ("ready", "assigned", "in_progress")  # a task in these may still be done


def agents_toml() -> str:
    """24 agents: 8 per account, each account with the same roles."""
    return "".join(
        f'[[agent]]\nid = "{cli}-{i + 1}"\nrole = "{role}"\ncli = "{cli}"\n'
        f'account = "{account}"\ndelivery = "inbox"\n\n'
        for account, cli in ACCOUNTS
        for i, role in enumerate(ROLES)
    )


def campaign(count: int, seed: int) -> tuple[list[TaskSpec], list[float]]:
    """Tasks with roles and up to 2 dependencies on the 30 before, and each one's minutes
    of work (5-30), the same for every day of a seed."""
    rng = random.Random(seed)
    specs, work = [], []
    for i in range(count):
        deps = rng.sample(range(max(0, i - 30), i), min(i, rng.choice((0, 0, 1, 2))))
        after = tuple(f"T-{d + 1}" for d in deps)
        specs.append(TaskSpec(f"task {i + 1}", role=rng.choice(TASK_ROLES), after=after,
                              ref=f"T-{i + 1}"))  # fmt: skip
        work.append(rng.randint(5, 30) * 60.0)
    return specs, work


@dataclass
class Agents:
    """The simulated agents: the prompts they were given, in order."""

    time_limit_s: float | None = None
    parcels: list[Parcel] = field(default_factory=list)

    def close(self) -> None:
        """Nothing to release."""

    async def deliver(self, parcel: Parcel) -> Receipt:
        """Take the prompt; the day's loop answers it."""
        self.parcels.append(parcel)
        return Receipt.delivered("bench")


@dataclass
class Day:
    """What one day measured (times in seconds from its start)."""

    limit: bool
    done_at: dict[int, float] = field(default_factory=dict)
    runs: dict[int, int] = field(default_factory=dict)
    limit_turns: int = 0  # prompts that met the limit
    wasted: int = 0  # of those, given after swarm had seen the account's limit
    parked_s: float = 0.0  # from such a prompt until swarm took the task back
    posts: dict[str, int] = field(default_factory=dict)
    moved: int = 0
    seconds: float = 0.0
    left: dict[str, int] = field(default_factory=dict)  # status -> tasks not done at the end

    @property
    def makespan(self) -> float:
        return max(self.done_at.values())


def hook(agent: str, state: AgentState, at: float, event: str) -> Observation:
    """What the agent's hook ``event`` tells swarm."""
    return Observation(agent, Signal.HOOK, state, at, f"hook: {event}")


def observe(conn: Conn, seen: list[Observation]) -> None:
    for obs in seen:
        agent_signals.record(conn, obs)


class Simulation:
    """One day over a fresh store."""

    def __init__(
        self, service: SwarmService, clock: ManualClock, watch: WatchSettings, args: Any
    ) -> None:
        self.service, self.clock, self.args = service, clock, args
        self.agents = Agents()
        self.scheduler = Scheduler(service, self.agents)
        self.watcher = Watcher(service, watch)
        self.start = clock.now()
        self.working: dict[int, tuple[str, float]] = {}  # task -> agent, when it is done
        self.known = False  # swarm was shown the account's limit
        self.parked: dict[int, tuple[str, float]] = {}  # task -> agent, when it met the limit

    def limited_now(self, agent: str) -> bool:
        elapsed = self.clock.now() - self.start
        in_window = self.args.limit_at <= elapsed < self.args.limit_at + self.args.reset_after
        return self.day.limit and in_window and self.service.agents[agent].account == LIMITED

    async def run(self, work: list[float], limit: bool, ids: list[int]) -> Day:
        self.day = Day(limit)
        began = time.perf_counter()
        while len(self.day.done_at) < len(ids) and not await self.stuck():
            if self.clock.now() - self.start > DAY_CAP_S:
                raise RuntimeError(f"the day did not end: {len(self.day.done_at)} done")
            await self.round(work, ids)
        self.day.seconds = time.perf_counter() - began
        counts = (await self.service.status())["tasks"]
        self.day.left = {s: n for s, n in counts.items() if n and s != "done"}
        return self.day

    async def stuck(self) -> bool:
        """No task can move any more: those not done failed or wait on one that did."""
        counts = (await self.service.status())["tasks"]
        return not self.working and not any(counts.get(s) for s in MOVING)

    async def round(self, work: list[float], ids: list[int]) -> None:
        """A minute: the tasks due are reported done, then the scheduler and the agents go
        back and forth (each prompt answered, the watcher judging) until no prompt is given,
        as a report wakes the real scheduler; the working agents' hooks speak."""
        began = self.clock.now()
        signals = []
        for task, (agent, due) in list(self.working.items()):
            if due <= began:
                await self.service.tasks.complete(task, agent, "done")
                self.day.done_at[task] = began - self.start
                del self.working[task]
                signals.append(hook(agent, AgentState.IDLE, began, "Stop"))
        await self.service.store.update(observe, signals)
        while await self.exchange(work, ids):
            pass
        now = self.clock.now()
        busy = [
            hook(a, AgentState.WORKING, now, "PreToolUse Bash") for a, _ in self.working.values()
        ]
        await self.service.store.update(observe, busy)
        self.clock.advance(began + STEP_S - now)

    async def exchange(self, work: list[float], ids: list[int]) -> bool:
        """One pass of the scheduler, the agents' answers, a watcher tick; whether any
        prompt was given."""
        known = self.known  # before this pass's prompts
        seen = len(self.agents.parcels)
        await self.scheduler.run_burst()
        self.clock.advance(1)
        now = self.clock.now()
        signals, given = [], False
        for parcel in self.agents.parcels[seen:]:
            if parcel.task_id is None or parcel.withdraw or not await self.is_prompt(parcel):
                continue
            given = True
            agent, task = parcel.agent.id, parcel.task_id
            if self.limited_now(agent):
                self.day.limit_turns += 1
                self.day.wasted += known
                self.known = True
                self.parked[task] = (agent, now)
                reset = self.start + self.args.limit_at + self.args.reset_after
                words = "text: You've hit your usage limit"
                signals.append(Observation(agent, Signal.TEXT, AgentState.LIMITED, now, words,
                                           until=reset))  # fmt: skip
                continue
            await self.service.tasks.start(task, agent)
            self.day.runs[task] = self.day.runs.get(task, 0) + 1
            self.working[task] = (agent, now + work[ids.index(task)])
            signals.append(hook(agent, AgentState.WORKING, now, "UserPromptSubmit"))
        await self.service.store.update(observe, signals)
        self.clock.advance(1)
        await self.watcher.tick()
        await self.taken_back()
        return given

    async def taken_back(self) -> None:
        """Count the time each task given to a limited agent stayed with it (until its
        lease expired or the watcher handed it on, whichever came first)."""
        for task, (agent, since) in list(self.parked.items()):
            found = await self.service.tasks.get(task)
            if found.status is not TaskStatus.assigned or found.agent != agent:
                self.day.parked_s += self.clock.now() - since
                del self.parked[task]

    async def is_prompt(self, parcel: Parcel) -> bool:
        """A task's prompt to the agent that holds it (not a note about it)."""
        assert parcel.task_id is not None
        task = await self.service.tasks.get(parcel.task_id)
        return task.status is TaskStatus.assigned and task.agent == parcel.agent.id


@contextmanager
def per_agent_limits() -> Iterator[None]:
    """The breaker never opens: each agent's own limit holds only it (as today, before
    issue 51; as for an agent alone on its account)."""
    opening = breaker.limit_seen
    breaker.limit_seen = lambda *_: False
    try:
        yield
    finally:
        breaker.limit_seen = opening


async def one_day(args: argparse.Namespace, limit: bool) -> Day:
    specs, work = campaign(args.tasks, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agents.toml"
        path.write_text(agents_toml(), encoding="utf-8")
        config = Config({"SWARM_HOME": f"{tmp}/home", "SWARM_CONFIG": str(path)})
        clock = ManualClock()
        service = await Builder(config, clock=clock).service()  # as ``swarm run``'s
        try:
            ids = await service.tasks.create_many(specs, "bench")
            simulation = Simulation(service, clock, config.watch, args)
            day = await simulation.run(work, limit, ids)
            day.done_at = {ids.index(t): at for t, at in day.done_at.items()}
            events = await service.history.events(limit=100_000)
            for event in events:
                if event.kind.endswith(("limited", "limit_ended")):
                    day.posts[event.kind] = day.posts.get(event.kind, 0) + 1
            found = await service.store.read(breaker.get, LIMITED)
            day.moved = found.moved if found is not None else 0
        finally:
            await service.close()
    return day


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def figures(day: Day, base: Day) -> dict[str, Any]:
    """``day`` against the day with no limit."""
    delays = [day.done_at[t] - base.done_at[t] for t in base.done_at if t in day.done_at]
    late = [d for d in delays if d > 0]
    return {
        "prompts_that_met_the_limit": day.limit_turns,
        "turns_wasted_on_a_known_limit": day.wasted,
        "tasks_run_twice": sum(n > 1 for n in day.runs.values()),
        "tasks_not_done": day.left,
        "task_minutes_held_at_the_limit": day.parked_s / 60,
        "tasks_delayed": len(late),
        "tasks_earlier": sum(d < 0 for d in delays),
        "delay_p50_min": percentile(late, 0.5) / 60,
        "delay_p99_min": percentile(late, 0.99) / 60,
        "delay_mean_all_min": statistics.fmean(delays) / 60,
        "makespan_h": day.makespan / 3600,
        "makespan_ratio": day.makespan / base.makespan,
        "limit_events": day.posts,
        "moved_to_other_accounts": day.moved,
        "wall_s": day.seconds,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit-at", type=float, default=3600.0, help="seconds into the day")
    parser.add_argument("--reset-after", type=float, default=3600.0, help="the limit's length")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = await one_day(args, limit=False)
    with_breaker = await one_day(args, limit=True)
    with per_agent_limits():
        per_agent = await one_day(args, limit=True)
    result = {
        "no_limit": {"makespan_h": base.makespan / 3600, "wall_s": base.seconds,
                     "tasks_run_twice": sum(n > 1 for n in base.runs.values()),
                     "tasks_not_done": base.left},
        "breaker": figures(with_breaker, base),
        "per_agent": figures(per_agent, base),
    }  # fmt: skip
    report(args, result)
    if args.json:
        print(json.dumps(result))


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    base, brk, per = result["no_limit"], result["breaker"], result["per_agent"]
    ends = args.limit_at + args.reset_after
    print(f"{args.tasks} tasks, 24 agents on 3 accounts; {LIMITED} limited "
          f"{args.limit_at / 60:.0f}-{ends / 60:.0f} min in")  # fmt: skip
    print(f"no limit: makespan {base['makespan_h']:.2f} h, run twice "
          f"{base['tasks_run_twice']}, not done {base['tasks_not_done'] or 0} "
          f"({base['wall_s']:.0f} s to simulate)")  # fmt: skip
    for name, day in (("breaker", brk), ("per-agent", per)):
        print(
            f"{name}: prompts that met the limit {day['prompts_that_met_the_limit']} (their "
            f"tasks held {day['task_minutes_held_at_the_limit']:.0f} min in all), wasted on a "
            f"known limit {day['turns_wasted_on_a_known_limit']}, run twice "
            f"{day['tasks_run_twice']}, not done {day['tasks_not_done'] or 0}; delayed "
            f"{day['tasks_delayed']} (earlier "
            f"{day['tasks_earlier']}) by p50 {day['delay_p50_min']:.0f} / p99 "
            f"{day['delay_p99_min']:.0f} min; makespan {day['makespan_h']:.2f} h "
            f"({day['makespan_ratio']:.3f}x no limit); moved {day['moved_to_other_accounts']}; "
            f"events {day['limit_events']} ({day['wall_s']:.0f} s)"
        )
    ratio = per["makespan_h"] and brk["makespan_h"] / per["makespan_h"]
    p50 = per["delay_p50_min"] and brk["delay_p50_min"] / per["delay_p50_min"]
    p99 = per["delay_p99_min"] and brk["delay_p99_min"] / per["delay_p99_min"]
    print(f"breaker / per-agent: makespan {ratio:.3f}x, delay p50 {p50:.2f}x, p99 {p99:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
