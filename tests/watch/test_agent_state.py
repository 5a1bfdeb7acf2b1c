"""Agent state's judgement and the decisions on it: one stall alert per episode, swarm's own
deliveries are not activity, waiting and limited agents are left alone, a restart keeps the
clock (real store, manual clock, a scripted frame source)."""

from __future__ import annotations

import json
import time

import pytest

from bot.cli.agent_hooks import explain_text
from core.agent_state import AgentState, Observation, Signal
from core.agents import _hook_events as hook_events
from core.agents import _signals as agent_signals
from core.agents._judge import Freshness, combine
from core.agents._limit_probes import PROBE_FIRST_S
from core.coordinator.jobs import Watcher
from core.dialogs import permissions as prompts
from core.models import PromptOption, Receipt, TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.stalls import freshness
from tests.watch.conftest import FakeFrames, assign, kinds, watch_settings

pytestmark = pytest.mark.both_databases

FAST = {
    "interval_s": 1.0,
    "stall_after_s": 4.0,
    "reassign_after_s": 14.0,
    "grace_s": 2.0,
    "nudge_cooldown_s": 1.0,
}  # the measured set-up (SWARM_STALL_AFTER=4 SWARM_REASSIGN_AFTER=14 ...=1)
FAST_NUDGES = 2  # watch_settings' default max_nudges


async def deliver_all(service: SwarmService, frames: FakeFrames) -> list[str]:
    """Deliver every due message, as the desktop driver would: the paste shows on screen."""
    texts = []
    while (delivery := await service.queue.claim_delivery()) is not None:
        frames.change(delivery.agent)
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))
        texts.append(delivery.text)
    return texts


async def state_of(service: SwarmService, agent: str) -> dict:
    return next(r for r in await service.roster.rows() if r["id"] == agent)


async def test_a_frozen_agent_is_stalled_once_and_taken_back_in_time_despite_the_nudges(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Before: each delivered nudge restarted the clock (delivery + grace), so the alert was
    cleared 2 s later and opened again, and the task was taken back far too late."""
    frames.frames["Agent-1"] = bytes(64)
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await watcher.tick()
    start = clock.now()
    task_id = await assign(service, "Agent-1")
    await deliver_all(service, frames)  # the prompt arrives at once
    taken_at = None
    for _ in range(40):
        clock.advance(1)
        await deliver_all(service, frames)  # every nudge reaches the window
        report = await watcher.tick()
        if report.reassigned and taken_at is None:
            taken_at = clock.now() - start
    opened = await kinds(service, "alert.opened")
    cleared = await kinds(service, "alert.cleared")
    assert len(await kinds(service, "agent.nudged")) == 2  # nudged within its limit
    assert len(opened) == 1 and len(cleared) == 1  # one alert for the episode, no flapping
    assert "taken back" in cleared[0].text
    # reassigned within reassign_after (from the prompt's delivery + grace) + two intervals
    assert taken_at is not None and taken_at <= 2 + 14 + 2 * 1
    assert (await service.tasks.get(task_id)).status is TaskStatus.ready


async def test_a_busy_agent_is_never_nudged_and_its_state_says_why(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    frames.frames["Agent-2"] = bytes(64)
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await watcher.tick()
    await assign(service, "Agent-2")
    await deliver_all(service, frames)
    for _ in range(30):
        clock.advance(1)
        frames.change("Agent-2")
        report = await watcher.tick()
        assert not report.stalled and not report.nudged
    row = await state_of(service, "Agent-2")
    assert (row["state"], row["signal"]) == ("working", "screen")
    assert row["evidence"].startswith("screen: changed at ")
    assert await kinds(service, "alert.opened") == []
    at = time.strftime("%H:%M:%S", time.localtime(clock.now()))
    lines = explain_text(await service.explain_agent("Agent-2")).splitlines()
    assert f"  screen: changed at {at} → working" in lines  # the time once (issue 41, item 8)


async def test_a_waiting_agent_is_never_nudged_or_reassigned_and_its_clock_restarts(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    frames.frames["Agent-3"] = bytes(64)
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await watcher.tick()
    task_id = await assign(service, "Agent-3")
    await deliver_all(service, frames)
    await service.questions.ask(task_id, "Which database, SQLite or PostgreSQL?", "Agent-3")
    for _ in range(60):
        clock.advance(1)
        report = await watcher.tick()
        assert not report.stalled and not report.nudged and not report.reassigned
    row = await state_of(service, "Agent-3")
    assert row["state"] == "waiting" and row["evidence"].startswith("question on T-1 open")
    await service.questions.reply(task_id, "PostgreSQL", "discord:ann")
    clock.advance(1)
    await watcher.tick()
    assert (await state_of(service, "Agent-3"))["state"] != "waiting"
    stalled_after = None
    for second in range(2, 12):
        clock.advance(1)
        await deliver_all(service, frames)  # the answer is pasted: not the agent's work
        if (await watcher.tick()).stalled:
            stalled_after = second
            break
    # the tick 1 s after the answer saw the wait end: stalled 4 s later, not at once
    assert stalled_after == 1 + 4
    assert (await service.tasks.get(task_id)).agent == "Agent-3"


async def test_an_open_permission_prompt_holds_off_the_stall_rules(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await assign(service, "Agent-4")
    options = (PromptOption("1", "Yes"), PromptOption("3", "No"))
    prompt = await service.store.write(
        "hook", prompts.open_prompt, "Agent-4", Signal.HOOK, "Allow Bash(make)?", options
    )
    for _ in range(30):
        clock.advance(1)
        assert not (await watcher.tick()).stalled
    row = await state_of(service, "Agent-4")
    assert row["state"] == "waiting" and f"prompt {prompt.id} open" in row["evidence"]
    assert await kinds(service, "agent.nudged") == []


async def test_a_restart_keeps_the_state_and_the_stall_clock(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Before: a new watcher started every clock again (its start, its first frames)."""
    settings = watch_settings()  # 10 min stall, 5 s ticks
    frames.frames["Agent-5"] = bytes(64)
    first = Watcher(service, settings, frames)
    await first.tick()
    start = clock.now()
    await assign(service, "Agent-5")
    for _ in range(60):  # 5 min quiet
        clock.advance(5)
        await first.tick()
    await first.close()
    clock.advance(3)  # the coordinator restarts
    second = Watcher(service, settings, frames)
    stalled_at = None
    while stalled_at is None and clock.now() - start < 1200:
        clock.advance(5)
        if (await second.tick()).stalled:
            stalled_at = clock.now() - start
    # assigned (grace 120 s, prompt never delivered) → quiet from start + 120, stall at +600
    assert stalled_at is not None and stalled_at <= 120 + 600 + 5
    assert (await state_of(service, "Agent-5"))["state"] == "stalled"


async def test_an_inbox_agent_is_judged_on_its_hooks_and_reports_not_a_screen(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**FAST), frames)  # no frame of Agent-6: no screen
    await assign(service, "Agent-6")
    for second in range(1, 20):
        clock.advance(1)
        if second % 3 == 0:  # its hook says it works (PreToolUse), every 3 s
            obs = Observation(
                "Agent-6", Signal.HOOK, AgentState.WORKING, clock.now(), "hook: PreToolUse Bash"
            )
            await service.store.update(agent_signals.record, obs)
        assert not (await watcher.tick()).stalled
    assert (await state_of(service, "Agent-6"))["state"] == "working"
    for _ in range(8):  # the hooks fall silent
        clock.advance(1)
        await watcher.tick()
    nudges = await kinds(service, "agent.nudged")
    assert nudges and "no report or hook for" in nudges[0].text
    row = await state_of(service, "Agent-6")
    assert row["state"] == "stalled" and "no report or hook" in row["evidence"]


async def test_a_limited_agent_gets_no_task_until_its_reset_and_is_no_stall(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**FAST), frames)
    task_id = await assign(service, "Agent-7")
    reset = clock.now() + 60
    limit = Observation(
        "Agent-7", Signal.TEXT, AgentState.LIMITED, clock.now(), "text: usage limit", until=reset
    )
    await service.store.update(agent_signals.record, limit)
    for _ in range(30):
        clock.advance(1)
        report = await watcher.tick()
        assert not report.stalled and not report.reassigned
    await service.tasks.complete(task_id, "Agent-7")
    # the limit's message leaves the pane (a new reading says idle): the limit still holds
    gone = Observation("Agent-7", Signal.TEXT, AgentState.IDLE, clock.now(), "text: prompt")
    await service.store.update(agent_signals.record, gone)
    await watcher.tick()
    assert (await state_of(service, "Agent-7"))["state"] == "limited"
    waiting = await service.tasks.create(TaskSpec("next", agent="Agent-7"), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(waiting.id)).status is TaskStatus.ready
    clock.advance(31)  # past the reset
    await watcher.tick()
    await service.queue.assign_batch()
    assert (await service.tasks.get(waiting.id)).agent == "Agent-7"
    assert [e.kind for e in await kinds(service, "agent.limited")] == ["agent.limited"]
    assert len(await kinds(service, "agent.limit_ended")) == 1


async def test_without_a_reset_time_the_limit_backs_off_and_all_limited_is_said(
    service: SwarmService, clock: ManualClock
) -> None:
    for agent in service.agents:
        obs = Observation(agent, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: limit")
        await service.store.update(agent_signals.record, obs)
    await service.tasks.create(TaskSpec("queued work"), "test")
    assert await service.queue.assign_batch() == []
    status = await service.status()
    assert status["limited"]["all"] is True
    assert status["limited"]["until"] == clock.now() + PROBE_FIRST_S  # then a task probes it
    clock.advance(PROBE_FIRST_S + 1)
    assert len(await service.queue.assign_batch()) == 1
    assert (await service.status())["limited"]["all"] is False


def test_a_stale_observation_does_not_outweigh_a_fresh_one() -> None:
    fresh = Freshness(sampled_s=15, event_s=600, limit_backoff_s=1800)

    def obs(signal: Signal, state: AgentState, at: float) -> Observation:
        return Observation("A", signal, state, at, f"{signal.value}: {state.value}")

    hook_idle = obs(Signal.HOOK, AgentState.IDLE, 1000)
    screen_busy = obs(Signal.SCREEN, AgentState.WORKING, 1300)
    # both fresh: the stronger signal (the agent's own hook) wins
    assert combine({s.signal: s for s in (hook_idle, screen_busy)}, 1300, fresh).state == "idle"
    # the hook went quiet for longer than its horizon: the screen, still watching, decides
    late = obs(Signal.SCREEN, AgentState.WORKING, 1700)
    verdict = combine({s.signal: s for s in (hook_idle, late)}, 1700, fresh)
    assert (verdict.state, verdict.signal) == (AgentState.WORKING, Signal.SCREEN)
    # nothing fresh: the newest, but old "working" news is no evidence of work
    assert combine({Signal.HOOK: hook_idle}, 9000, fresh).state is AgentState.IDLE
    old_work = obs(Signal.REPORT, AgentState.WORKING, 1000)
    assert combine({Signal.REPORT: old_work}, 9000, fresh).state is AgentState.UNKNOWN
    assert combine({}, 9000, fresh).state is AgentState.UNKNOWN
    # a wait for a person comes first
    assert combine({Signal.SCREEN: late}, 1700, fresh, waiting="q").state is AgentState.WAITING


def test_the_pane_showing_the_turn_stopped_beats_an_older_hooks_working() -> None:
    """Issue 53, item 3. Before: Claude Code's "Waiting for API response · will retry in 3m
    47s" read working on the evidence of its UserPromptSubmit hook (fresh for the stall
    time), and Codex's "Reconnecting... 1/5" on its last tool call."""
    fresh = Freshness(sampled_s=15, event_s=600, limit_backoff_s=1800)
    hook = Observation("A", Signal.HOOK, AgentState.WORKING, 1000, "hook: UserPromptSubmit")
    wait = "text: 'Waiting for API response · will retry in 3m 47s' (claude-code v1, rule api-wait)"
    pane = Observation("A", Signal.TEXT, AgentState.ERRORED, 1050, wait)
    verdict = combine({Signal.HOOK: hook, Signal.TEXT: pane}, 1050, fresh)
    assert (verdict.state, verdict.signal, verdict.evidence) == (
        AgentState.ERRORED,
        Signal.TEXT,
        wait,
    )
    dialog = Observation("A", Signal.TEXT, AgentState.WAITING, 1050, "text: 'Exit plan mode?'")
    assert combine({Signal.HOOK: hook, Signal.TEXT: dialog}, 1050, fresh).state == "waiting"
    # the hook spoke after the pane was read: the hook's word is the newer one
    newer = Observation("A", Signal.HOOK, AgentState.WORKING, 1060, "hook: PreToolUse")
    assert combine({Signal.HOOK: newer, Signal.TEXT: pane}, 1060, fresh).state == "working"
    # a stale pane reading outweighs nothing
    assert combine({Signal.HOOK: hook, Signal.TEXT: pane}, 1100, fresh).state == "working"
    # a hook that said the turn ended (idle) is not outweighed: only its working is
    stop = Observation("A", Signal.HOOK, AgentState.IDLE, 1000, "hook: Stop")
    assert combine({Signal.HOOK: stop, Signal.TEXT: pane}, 1050, fresh).state == "idle"


async def limited(service: SwarmService, clock: ManualClock, agent: str) -> None:
    """``agent`` shows a usage limit that ends in an hour."""
    until = clock.now() + 3600
    limit = Observation(
        agent, Signal.TEXT, AgentState.LIMITED, clock.now(), "text: usage limit", until=until
    )
    await service.store.update(agent_signals.record, limit)


async def test_a_limited_agents_task_is_handed_on_after_the_handoff_time(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Issue 41, item 2: after SWARM_LIMIT_HANDOFF limited, the agent's task that another
    agent can take goes back to the queue (not counted as an attempt) and reaches another
    agent."""
    watcher = Watcher(service, watch_settings(**FAST, limit_handoff_s=10.0), frames)
    free = await service.tasks.create(TaskSpec("anyone's work"), "test")
    await service.queue.assign_batch()
    holder = (await service.tasks.get(free.id)).agent
    assert holder is not None
    await limited(service, clock, holder)
    for _ in range(9):
        clock.advance(1)
        assert not (await watcher.tick()).handed_on
    clock.advance(2)
    assert (await watcher.tick()).handed_on == [free.id]
    task = await service.tasks.get(free.id)
    assert task.status is TaskStatus.ready and task.attempts == 0
    assert f"{holder} is limited until" in (task.reason or "")
    await service.queue.assign_batch()
    assert (await service.tasks.get(free.id)).agent not in (None, holder)


async def test_a_task_pinned_to_a_limited_agent_stays_and_handoff_off_keeps_all(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    pinned = await assign(service, "Agent-7", "only Agent-7")
    await limited(service, clock, "Agent-7")
    watcher = Watcher(service, watch_settings(**FAST, limit_handoff_s=10.0), frames)
    clock.advance(1)
    await watcher.tick()  # the limit is seen, and held until its reset
    for _ in range(3):
        clock.advance(600)
        assert not (await watcher.tick()).handed_on
    assert (await service.tasks.get(pinned)).agent == "Agent-7"
    free = await service.tasks.create(TaskSpec("anyone's work"), "test")
    await service.queue.assign_batch()
    holder = (await service.tasks.get(free.id)).agent
    assert holder is not None
    await limited(service, clock, holder)
    kept = Watcher(service, watch_settings(**FAST, limit_handoff_s=None), frames)
    clock.advance(1)
    await kept.tick()
    for _ in range(3):
        clock.advance(600)
        assert not (await kept.tick()).handed_on
    assert (await service.tasks.get(free.id)).agent == holder


async def test_an_agent_whose_hook_acknowledges_each_nudge_and_does_nothing_is_taken_back(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Issue 41, item 3: a hook-equipped agent (no screen) that answers every nudge (its
    UserPromptSubmit, then Stop) but never works: the nudge and the hook's reaction to
    swarm's own paste are not work, so the chain alert -> nudges -> taken back ends within
    SWARM_REASSIGN_AFTER of its prompt's delivery plus SWARM_GRACE (before: each nudge's
    UserPromptSubmit restarted the clock: taken back 24 s after, not 16 s)."""
    fresh = freshness(service.ctx("test"), watch_settings(**FAST))
    watcher = Watcher(service, watch_settings(**FAST), frames)  # no frame of Agent-6

    async def hook(name: str) -> None:
        event = hook_events.parse(json.dumps({"hook_event_name": name, "session_id": "s"}))
        await service.store.write("Agent-6", hook_events.record, "Agent-6", event, fresh, False)

    task_id = await assign(service, "Agent-6")
    await deliver_all(service, frames)
    await hook("UserPromptSubmit")  # the task prompt: it starts, then never works
    await hook("Stop")
    last_work = clock.now()
    taken_at = None
    for _ in range(60):
        clock.advance(1)
        report = await watcher.tick()
        if await deliver_all(service, frames):  # a nudge reached it: it acknowledges
            await hook("UserPromptSubmit")
            await hook("Stop")
        if task_id in report.reassigned:
            taken_at = clock.now() - last_work
            break
    assert len(await kinds(service, "agent.nudged")) == FAST_NUDGES
    # the bound: SWARM_REASSIGN_AFTER from the task prompt's delivery + SWARM_GRACE, one tick
    bound = FAST["grace_s"] + FAST["reassign_after_s"] + FAST["interval_s"]
    assert taken_at is not None and taken_at <= bound


async def test_a_frozen_agent_gets_no_task_until_its_pane_shows_it_free_again(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """A frozen turn on the pane (working, nothing advancing: Claude Code's spinner over a
    stream that stopped) gets the agent's task taken back; before, the agent was free again
    at once and the task (pinned to it, or with no other agent free) went straight back into
    the frozen turn. Now it waits until the pane shows it at its input."""
    watcher = Watcher(service, watch_settings(**FAST), frames)  # Agent-6: no screen

    async def pane(state: AgentState, words: str) -> None:
        seen = Observation("Agent-6", Signal.TEXT, state, clock.now(), words, work=False)
        await service.store.update(agent_signals.record, seen)

    task_id = await assign(service, "Agent-6")
    await deliver_all(service, frames)
    taken = False
    for _ in range(60):
        clock.advance(1)
        await pane(AgentState.WORKING, "text: '✽ Beboppin'… (esc to interrupt)' (no progress)")
        report = await watcher.tick()
        await deliver_all(service, frames)  # the nudges
        if task_id in report.reassigned:
            taken = True
            break
    assert taken
    (cleared,) = await kinds(service, "alert.cleared")
    assert "no new task while it still shows that turn" in cleared.text
    for _ in range(3):
        clock.advance(1)
        await pane(AgentState.WORKING, "text: '✽ Beboppin'… (esc to interrupt)' (no progress)")
        await watcher.tick()
        await service.queue.assign_batch()
        assert (await service.tasks.get(task_id)).status is TaskStatus.ready
    # the pinned task waiting for it is in "Needs you", saying why
    (need,) = [n for n in await service.inbox.needs() if n.kind == "stranded"]
    assert need.task == "T-1" and "Agent-6, whose turn froze" in need.text, need.text
    clock.advance(1)
    await pane(AgentState.IDLE, "text: '❯ ' (its input)")
    await watcher.tick()
    await service.queue.assign_batch()
    task = await service.tasks.get(task_id)
    assert (task.status, task.agent) == (TaskStatus.assigned, "Agent-6")
    assert [n for n in await service.inbox.needs() if n.kind == "stranded"] == []


async def test_a_flapping_limit_keeps_the_handoff_wait_from_its_first_start(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """A limit that lets the agent through for a moment and then holds again with the same
    reset (a flap: one Discord post) is one limit: its task is handed on
    SWARM_LIMIT_HANDOFF after the limit began. Before, each return restarted the wait, so a
    limit flapping more often than that never handed anything on."""
    watcher = Watcher(service, watch_settings(**FAST, limit_handoff_s=10.0), frames)
    free = await service.tasks.create(TaskSpec("anyone's work"), "test")
    await service.queue.assign_batch()
    holder = (await service.tasks.get(free.id)).agent
    assert holder is not None
    until = clock.now() + 3600
    start = clock.now()

    async def pane(state: AgentState, words: str) -> None:
        seen = Observation(holder, Signal.TEXT, state, clock.now(), words, until=until)
        await service.store.update(agent_signals.record, seen)

    await pane(AgentState.LIMITED, "text: usage limit")
    handed = None
    for second in range(1, 16):
        clock.advance(1)
        if second == 6:
            await pane(AgentState.WORKING, "text: 'esc to interrupt'")
        if second == 8:
            await pane(AgentState.LIMITED, "text: usage limit")
        if (await watcher.tick()).handed_on and handed is None:
            handed = clock.now() - start
    assert await kinds(service, "agent.limit_flapped"), "the limit did not flap"
    assert handed is not None and handed <= 10 + 1, handed


async def test_a_screen_looked_at_once_is_unknown_not_idle_for_0_s(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    # the demo's cards said "idle: screen: no change for 0 s" beside a task in progress: one
    # look is no evidence of rest
    frames.frames["Agent-1"] = bytes(64)
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await watcher.tick()
    at = time.strftime("%H:%M:%S", time.localtime(clock.now()))
    row = await state_of(service, "Agent-1")
    assert (row["state"], row["evidence"]) == ("unknown", f"screen: first look at {at}"), row
    clock.advance(FAST["interval_s"])
    await watcher.tick()
    row = await state_of(service, "Agent-1")
    assert (row["state"], row["evidence"]) == ("idle", "screen: no change for 1 s"), row


def test_a_screen_not_judged_yet_is_no_evidence_beside_a_fresh_report() -> None:
    """Issue 79: an agent's own ``task start`` decides over its screen's first look (no
    evidence either way), never over terminal text that no rule knows (evidence)."""
    fresh = Freshness(sampled_s=15, event_s=600, limit_backoff_s=1800)
    first = Observation("A", Signal.SCREEN, AgentState.UNKNOWN, 1000, "screen: first look")
    started = Observation("A", Signal.REPORT, AgentState.WORKING, 1001, "report: T-1 started")
    verdict = combine({Signal.SCREEN: first, Signal.REPORT: started}, 1001, fresh)
    assert (verdict.state, verdict.signal) == (AgentState.WORKING, Signal.REPORT)
    assert combine({Signal.SCREEN: first}, 1001, fresh).state is AgentState.UNKNOWN
    stale = Observation("A", Signal.REPORT, AgentState.WORKING, 1, "report: T-1 started")
    assert combine({Signal.SCREEN: first, Signal.REPORT: stale}, 1001, fresh).state == "unknown"
    strange = Observation("A", Signal.TEXT, AgentState.UNKNOWN, 1000, "text: no rule knows it")
    assert combine({Signal.TEXT: strange, Signal.REPORT: started}, 1001, fresh).state == "unknown"


async def test_an_agents_start_reads_working_at_once_beside_its_task_in_progress(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    # the demo's cards said "Agent-2 unknown" beside a task in progress: the report was
    # judged only at the watch's next look, and then lost to the screen's first look
    frames.frames["Agent-1"] = bytes(64)
    watcher = Watcher(service, watch_settings(**FAST), frames)
    await watcher.tick()  # the screen's first look: unknown
    settings = watch_settings(**FAST)
    service.tasks.fresh = Freshness.of(settings.interval_s, settings.stall_after_s, 1800)
    task = await service.tasks.create(TaskSpec("job", agent="Agent-1"), "me")
    await service.queue.assign_batch()
    await service.tasks.start(task.ref, "Agent-1")
    row = await state_of(service, "Agent-1")
    assert (row["state"], row["evidence"]) == ("working", f"report: {task.ref} started by Agent-1")
    await watcher.tick()  # and the watch's next look agrees
    assert (await state_of(service, "Agent-1"))["state"] == "working"
