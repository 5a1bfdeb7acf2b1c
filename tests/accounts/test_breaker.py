"""Issue 51, items 1-3: a usage limit seen on one agent holds every agent of its account
(its breaker opens at the first limit), ready work goes to other accounts' agents, a task
pinned to the account waits and says why, one task probes the account after the reset and
closes the breaker, a failed probe reopens it with a doubled backoff, the breaker survives a
restart, and a campaign of 20 tasks through a limit and its reset runs each task once (real
store, SQLite and PostgreSQL, manual clock)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.accounts import breaker
from core.agent_state import AgentState, Observation, Signal
from core.agents import _signals as agent_signals
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.event_kinds import EventKind
from core.models import Agent, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import FakeFrames, watch_settings

pytestmark = pytest.mark.both_databases

TEAM = ("A1", "A2", "A3")  # Claude Code on the account "anthropic-team"
OTHER = "C1"  # Codex on "openai-team"
RESET_S = 3600.0
SLOW_S = 540.0  # the other account's agent's time per task (under the 10 min stall time)


def fleet(capacity: int = 1) -> list[Agent]:
    """Three Claude Code agents on one account, one Codex agent on another."""
    team = [
        Agent(a, "dev", cli="claude-code", account="anthropic-team", delivery="inbox") for a in TEAM
    ]
    return [*team, Agent(OTHER, "dev", cli="codex", account="openai-team", capacity=capacity,
                         delivery="inbox")]  # fmt: skip


async def with_fleet(service: SwarmService, tmp_path: Path, capacity: int = 1) -> None:
    await service.replace_agents(fleet(capacity), tmp_path / "agents.toml")


def watcher(service: SwarmService) -> Watcher:
    """The watcher that judges the agents and hands a limited agent's task on at once."""
    return Watcher(service, watch_settings(interval_s=1.0, limit_handoff_s=0.0), FakeFrames())


async def show_limit(service: SwarmService, agent: str, until: float | None) -> None:
    seen = Observation(
        agent, Signal.TEXT, AgentState.LIMITED, service.clock.now(), "text: usage limit",
        until=until,
    )  # fmt: skip
    await service.store.update(agent_signals.record, seen)


async def holder(service: SwarmService, task_id: int) -> str | None:
    return (await service.tasks.get(task_id)).agent


async def events(service: SwarmService, kind: EventKind) -> list[str]:
    return [e.text for e in await service.history.events(limit=1000) if e.kind == kind]


async def breaker_of(service: SwarmService, account: str) -> breaker.Breaker | None:
    return await service.store.read(breaker.get, account)


async def test_the_first_limit_holds_every_agent_of_its_account(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    await with_fleet(service, tmp_path)
    first = await service.tasks.create(TaskSpec("first"), "test")
    await service.queue.assign_batch()
    assert await holder(service, first.id) == "A1"
    await show_limit(service, "A1", clock.now() + RESET_S)
    clock.advance(1)
    assert (await watcher(service).tick()).handed_on == [first.id]
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.OPEN and found.agent == "A1"
    assert found.until == pytest.approx(clock.now() - 1 + RESET_S)
    # one post for the account, none for the agent
    posted = await events(service, EventKind.ACCOUNT_LIMITED)
    assert len(posted) == 1 and "anthropic-team hit a usage limit" in posted[0]
    assert "none of its 3 agent(s)" in posted[0]
    assert await events(service, EventKind.AGENT_LIMITED) == []
    assert len(await events(service, EventKind.AGENT_LIMITED_IN_ACCOUNT)) == 1
    # four ready tasks: only the other account's agent takes one; A2 and A3 take none
    more = [(await service.tasks.create(TaskSpec(f"t{i}"), "test")).id for i in range(3)]
    await service.queue.assign_batch()
    holders = {t: await holder(service, t) for t in [first.id, *more]}
    assert set(holders.values()) == {OTHER, None}
    assert list(holders.values()).count(OTHER) == 1
    rows = {r["id"]: r for r in await service.roster.rows()}
    assert rows["A2"]["account"] == "anthropic-team" and rows["A2"]["account_named"]
    assert rows["A2"]["account_limit"]["text"].startswith("limited until ")
    assert rows[OTHER]["account_limit"] is None
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.moved == 1  # the task A2 could have had went to C1
    # one needs-you item for the account, none per agent
    items = [n for n in await service.inbox.needs() if n.kind == "account"]
    assert [n.ref for n in items] == [f"L-{found.id}"]
    assert items[0].text.startswith("anthropic-team limited until ")
    assert "3 agent(s), 3 task(s) waiting, 1 moved to other accounts" in items[0].text
    assert (await service.inbox.item(f"L-{found.id}")).kind == "account"


async def test_a_pinned_task_waits_and_says_why(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    await with_fleet(service, tmp_path)
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    pinned = await service.tasks.create(TaskSpec("for A2", agent="A2"), "test")
    await service.queue.assign_batch()
    assert await holder(service, pinned.id) is None
    why = await service.costs.why_waiting(pinned.id)
    assert why is not None and why.startswith("waits for A2, whose account anthropic-team is")
    assert "limited until" in why and "(seen on A1)" in why


async def test_a_probe_after_the_reset_closes_it(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    await with_fleet(service, tmp_path)
    await service.roster.set_paused(OTHER, True, "test")  # the account's agents only
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    ids = [(await service.tasks.create(TaskSpec(f"t{i}"), "test")).id for i in range(3)]
    await service.queue.assign_batch()
    assert {await holder(service, t) for t in ids} == {None}
    clock.advance(RESET_S + 1)  # the reset has passed: one task probes the account
    await watcher(service).tick()
    await service.queue.assign_batch()
    taken = [t for t in ids if await holder(service, t) is not None]
    assert len(taken) == 1
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.PROBING
    assert found.probe_task == taken[0]
    probe = await holder(service, taken[0])
    assert probe is not None
    await service.tasks.start(taken[0], probe)  # the probe's agent works: the limit is over
    await service.queue.assign_batch()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.CLOSED
    assert {await holder(service, t) for t in ids} == set(TEAM)  # the others take the rest
    ended = await events(service, EventKind.ACCOUNT_LIMIT_ENDED)
    assert len(ended) == 1 and "anthropic-team's usage limit is over" in ended[0]


async def show(service: SwarmService, agent: str, state: AgentState, why: str) -> None:
    """``agent`` in ``state`` by its protocol's word, judged."""
    seen = Observation(agent, Signal.PROTOCOL, state, service.clock.now(), why)
    await service.store.update(agent_signals.record, seen)
    await watcher(service).tick()


async def test_a_probe_whose_turn_ended_between_two_passes_closes_it(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """A turn of milliseconds (the protocol route): the probe's agent worked and is idle
    again before the next pass looks; its turn ending without a limit closes the breaker
    (before: only "working" at the pass did, and the breaker waited SWARM_LIMIT_BACKOFF to
    probe again)."""
    await with_fleet(service, tmp_path)
    await service.roster.set_paused(OTHER, True, "test")
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    task = await service.tasks.create(TaskSpec("probe", agent="A2"), "test")
    clock.advance(RESET_S + 1)
    await show(service, "A2", AgentState.IDLE, "protocol: turn ended (end_turn)")
    await service.queue.assign_batch()
    assert await holder(service, task.id) == "A2"
    clock.advance(1)
    await show(service, "A2", AgentState.WORKING, "protocol: answering")
    clock.advance(1)
    await show(service, "A2", AgentState.IDLE, "protocol: turn ended (end_turn)")
    await service.queue.assign_batch()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.CLOSED, found


async def test_a_failed_probe_reopens_it_with_a_doubled_backoff(
    service: SwarmService, clock: ManualClock, tmp_path: Path, settings: Settings
) -> None:
    await with_fleet(service, tmp_path)
    await service.roster.set_paused(OTHER, True, "test")
    await show_limit(service, "A1", None)  # no reset shown: SWARM_LIMIT_BACKOFF
    await watcher(service).tick()
    found = await breaker_of(service, "anthropic-team")
    backoff = settings.limit_backoff_s
    assert found is not None and found.until == pytest.approx(clock.now() + backoff)
    task = await service.tasks.create(TaskSpec("work"), "test")
    clock.advance(backoff + 1)
    await watcher(service).tick()
    await service.queue.assign_batch()
    probe = await holder(service, task.id)
    assert probe is not None
    await show_limit(service, probe, None)  # the probe meets the limit again
    clock.advance(1)
    await watcher(service).tick()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.OPEN and found.failures == 1
    assert found.until == pytest.approx(clock.now() + 2 * backoff)
    posted = await events(service, EventKind.ACCOUNT_LIMITED)
    assert len(posted) == 2 and "the probe on" in posted[-1]
    await service.queue.assign_batch()  # the task went back: nobody of the account takes it
    assert await holder(service, task.id) is None


async def test_a_later_reset_seen_on_another_agent_moves_the_reset(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    await with_fleet(service, tmp_path)
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    later = clock.now() + 2 * RESET_S
    await show_limit(service, "A2", later)
    clock.advance(1)
    await watcher(service).tick()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.OPEN and found.until == later
    assert found.agent == "A1" and found.failures == 0  # the same opening, reset moved
    assert len(await events(service, EventKind.ACCOUNT_LIMITED)) == 1


async def test_a_probe_that_shows_nothing_is_made_again(
    service: SwarmService, clock: ManualClock, tmp_path: Path, settings: Settings
) -> None:
    """The probe's agent neither works nor ends a turn nor reports within
    SWARM_LIMIT_BACKOFF: the breaker is open again, half open from now (no failure)."""
    await with_fleet(service, tmp_path)
    await service.roster.set_paused(OTHER, True, "test")
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    task = await service.tasks.create(TaskSpec("probe"), "test")
    clock.advance(RESET_S + 1)
    await service.queue.assign_batch()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.PROBING
    assert found.probe_task == task.id
    clock.advance(settings.limit_backoff_s)
    await service.queue.assign_batch()
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.OPEN and found.failures == 0
    assert (found.until, found.probe_agent, found.probe_task) == (clock.now(), None, None)
    assert found.half_open(clock.now())


async def test_the_breaker_survives_a_restart(
    service: SwarmService, clock: ManualClock, tmp_path: Path, settings: Settings
) -> None:
    await with_fleet(service, tmp_path)
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    path = tmp_path / "agents.toml"
    path.write_text(agents_toml(), encoding="utf-8")
    again = await SwarmService.open(dataclasses.replace(settings, config_path=path), clock)
    try:
        await again.roster.set_paused(OTHER, True, "test")
        task = await again.tasks.create(TaskSpec("after the restart"), "test")
        await again.queue.assign_batch()
        assert (await again.tasks.get(task.id)).agent is None
        found = await again.store.read(breaker.get, "anthropic-team")
        assert found is not None and found.state == breaker.OPEN
    finally:
        await again.close()


async def is_prompt(service: SwarmService, task_id: int, agent: str, withdraw: bool) -> bool:
    """Whether a parcel is a task's prompt to the agent it is assigned to (not a note about
    it, a nudge, or its withdrawal)."""
    if withdraw:
        return False
    task = await service.tasks.get(task_id)
    return task.status is TaskStatus.assigned and task.agent == agent


def agents_toml() -> str:
    """The fleet as an agents file."""
    return "".join(
        f'[[agent]]\nid = "{a.id}"\nrole = "dev"\ncli = "{a.cli}"\naccount = "{a.account}"\n'
        'delivery = "inbox"\n'
        for a in fleet()
    )


async def test_a_campaign_of_20_tasks_through_a_limit_runs_each_task_once(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    """The account is limited for an hour from the 5th prompt its agents take: the agent
    given a prompt then shows the limit and its task goes back; the other account's agent
    (slow: 9 minutes a task) takes what it can meanwhile, the rest waits for the reset and
    its probe; every task is done in the end, each run once, and after the first limit no
    prompt goes to the account until its reset (0 turns wasted on a known limit)."""
    await with_fleet(service, tmp_path)
    deliverer = RecordingDeliverer()
    scheduler = Scheduler(service, deliverer)
    look = watcher(service)
    ids = [(await service.tasks.create(TaskSpec(f"c{i}"), "test")).id for i in range(20)]
    runs: dict[int, int] = {}
    working: dict[int, tuple[str, float]] = {}  # task -> its agent, when it finishes
    limited_from: float | None = None
    wasted = taken = seen = 0
    for _ in range(400):
        known = await breaker_of(service, "anthropic-team")  # before this round's prompts
        await scheduler.run_burst()
        clock.advance(1)  # the agents answer after their prompts
        for parcel in deliverer.parcels[seen:]:
            agent, task_id = parcel.agent.id, parcel.task_id
            if task_id is None or not await is_prompt(service, task_id, agent, parcel.withdraw):
                continue
            taken += agent in TEAM
            if agent in TEAM and limited_from is None and taken == 5:
                limited_from = clock.now()
            reset = None if limited_from is None else limited_from + RESET_S
            if agent in TEAM and reset is not None and clock.now() < reset:
                wasted += known is not None and known.state == breaker.OPEN
                await show_limit(service, agent, reset)
                continue
            await service.tasks.start(task_id, agent)
            runs[task_id] = runs.get(task_id, 0) + 1
            working[task_id] = (agent, clock.now() + (SLOW_S if agent == OTHER else 0))
        seen = len(deliverer.parcels)
        for task_id, (agent, due) in list(working.items()):
            if due <= clock.now():
                await service.tasks.complete(task_id, agent)
                del working[task_id]
        clock.advance(1)
        await look.tick()
        statuses = {(await service.tasks.get(t)).status for t in ids}
        if statuses == {TaskStatus.done}:
            break
        clock.advance(60)
    assert runs == {t: 1 for t in ids}
    assert limited_from is not None and wasted == 0
    found = await breaker_of(service, "anthropic-team")
    assert found is not None and found.state == breaker.CLOSED and found.moved > 0
    done_by = {(await service.tasks.get(t)).agent for t in ids}
    assert done_by == {*TEAM, OTHER}  # the account's agents took work again after the reset


async def test_the_dashboards_agents_page_shows_the_account_and_its_limit(
    service: SwarmService, clock: ManualClock, tmp_path: Path
) -> None:
    import httpx

    from bot.web.app import create_app
    from bot.web.settings import WebSettings
    from tests.web.conftest import make_token
    from tests.web.test_pages import login

    await with_fleet(service, tmp_path)
    await show_limit(service, "A1", clock.now() + RESET_S)
    await watcher(service).tick()
    transport = httpx.ASGITransport(app=create_app(service, WebSettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        await login(client, await make_token(service, "viewer", "wall"))
        page = (await client.get("/agents")).text
    assert page.count("account <code>anthropic-team</code>") == 3
    assert page.count('class="account-limit">limited until ') == 3
    assert page.count("account <code>openai-team</code>") == 1
