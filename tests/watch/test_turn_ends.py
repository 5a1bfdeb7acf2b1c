"""A turn that ends without a report is seen at once (issue 53, item 2): the first silent end
is nudged at the next look, the second is a "Needs you" item, cleared once the agent no
longer holds the task; a report in the turn, a wait for a person, a turn still running are
left alone (real store, manual clock, the agent's hooks as Claude Code and Codex send them).
"""

from __future__ import annotations

import json

import pytest

from bot.cli.agent_hooks import explain_text
from core.agents import _hook_events as hook_events
from core.coordinator.jobs import Watcher
from core.models import Receipt
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.stalls import freshness
from tests.watch.conftest import FakeFrames, assign, kinds, watch_settings

pytestmark = pytest.mark.both_databases

SLOW_STALL = {"interval_s": 1.0, "stall_after_s": 600.0, "grace_s": 2.0}  # no stall rule here


async def deliver_all(service: SwarmService) -> list[str]:
    """Every due message reaches its agent (the tmux route's receipt)."""
    texts = []
    while (delivery := await service.queue.claim_delivery()) is not None:
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))
        texts.append(delivery.text)
    return texts


def hook_of(service: SwarmService, agent: str):
    fresh = freshness(service.ctx("test"), watch_settings(**SLOW_STALL))

    async def hook(name: str, **payload: object) -> None:
        raw = json.dumps({"hook_event_name": name, "session_id": "s", **payload})
        event = hook_events.parse(raw)
        await service.store.write(agent, hook_events.record, agent, event, fresh, False)

    return hook


async def turn(service: SwarmService, clock: ManualClock, agent: str) -> None:
    """One turn of the agent: its prompt submitted, a tool call, its end (a second each)."""
    hook = hook_of(service, agent)
    await hook("UserPromptSubmit")
    clock.advance(1)
    await hook("PreToolUse", tool_name="Bash", tool_input={"command": "make"})
    clock.advance(1)
    await hook("Stop")


async def test_a_silent_turn_end_is_nudged_at_once_and_the_second_needs_a_person(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    task_id = await assign(service, "Agent-6")
    await deliver_all(service)  # the task's prompt
    await turn(service, clock, "Agent-6")  # ... and the turn ends: no report
    ended = clock.now()
    clock.advance(1)
    report = await watcher.tick()
    assert report.nudged_turns == ["Agent-6"]
    (nudge,) = await deliver_all(service)
    assert clock.now() - ended <= SLOW_STALL["grace_s"]  # within SWARM_GRACE of the end
    assert "Your turn ended without reporting T-1" in nudge
    assert " swarm task done T-1 --note" in nudge and "or keep working" in nudge
    (event,) = await kinds(service, "agent.nudged")
    assert event.data["reason"] == "turn_end" and event.task_id == task_id
    for _ in range(3):  # nudged once: the same end is not nudged again
        clock.advance(1)
        assert (await watcher.tick()).nudged_turns == []
    await turn(service, clock, "Agent-6")  # it read the nudge, and ended silent again
    clock.advance(1)
    report = await watcher.tick()
    assert report.unreported == ["Agent-6"] and report.nudged_turns == []
    (need,) = [n for n in await service.inbox.needs() if n.kind == "alert"]
    assert (need.agent, need.task) == ("Agent-6", "T-1")  # retry, reassign, cancel on it
    assert "Agent-6 ended its turn without reporting T-1 (nudged at " in need.text
    lines = explain_text(await service.explain_agent("Agent-6"))
    assert "Agent-6 ended its turn without reporting T-1" in lines
    clock.advance(1)
    assert (await watcher.tick()).unreported == []  # one alert, not one per look
    await service.tasks.complete(task_id, "Agent-6", "late, but done")
    clock.advance(1)
    await watcher.tick()
    (cleared,) = await kinds(service, "alert.cleared")
    assert cleared.text == "Agent-6 no longer has an unreported turn: it holds no task now"
    assert [n for n in await service.inbox.needs() if n.kind == "alert"] == []


async def test_the_alert_of_a_task_reported_since_clears_when_the_next_ends_silent(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Between two looks the agent reports the alerted task, takes the next and ends that
    turn silent: the old task's item goes, and the new task's first silent end is nudged."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    first = await assign(service, "Agent-6")
    await deliver_all(service)
    for _ in range(2):  # a silent end, its nudge, a silent end again: the alert
        await turn(service, clock, "Agent-6")
        clock.advance(1)
        await watcher.tick()
        await deliver_all(service)
    assert [n.task for n in await service.inbox.needs() if n.kind == "alert"] == ["T-1"]
    await service.tasks.complete(first, "Agent-6", "late, but done")
    await assign(service, "Agent-6", "more work")
    await deliver_all(service)
    await turn(service, clock, "Agent-6")
    clock.advance(1)
    report = await watcher.tick()
    assert report.nudged_turns == ["Agent-6"] and report.unreported == []
    (cleared,) = await kinds(service, "alert.cleared")
    assert cleared.text == "Agent-6 no longer has an unreported turn: prompted since, it holds T-2"
    assert [n for n in await service.inbox.needs() if n.kind == "alert"] == []


async def test_a_turn_with_its_report_a_running_turn_and_a_wait_are_not_nudged(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    done = await assign(service, "Agent-6")
    await deliver_all(service)
    await service.tasks.complete(done, "Agent-6", "did it")  # reported in its turn
    await turn(service, clock, "Agent-6")
    running = await assign(service, "Agent-5")
    await deliver_all(service)
    await hook_of(service, "Agent-5")("UserPromptSubmit")  # its turn goes on
    asking = await assign(service, "Agent-4")
    await deliver_all(service)
    await hook_of(service, "Agent-4")("UserPromptSubmit")
    await service.questions.ask(asking, "Which database?", "Agent-4")
    await hook_of(service, "Agent-4")("Stop")  # it waits for the answer
    for _ in range(5):
        clock.advance(1)
        report = await watcher.tick()
        assert report.nudged_turns == [] and report.unreported == []
    assert running and await kinds(service, "agent.nudged") == []


async def test_with_no_nudges_allowed_the_first_silent_end_needs_a_person(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    watcher = Watcher(service, watch_settings(**SLOW_STALL, max_nudges=0), frames)
    await assign(service, "Agent-6")
    await deliver_all(service)
    await turn(service, clock, "Agent-6")
    clock.advance(1)
    report = await watcher.tick()
    assert report.nudged_turns == [] and report.unreported == ["Agent-6"]
    for _ in range(3):  # one item: not cleared and opened again at each look
        clock.advance(1)
        assert (await watcher.tick()).unreported == []
    (opened,) = await kinds(service, "alert.opened")
    assert "nudged at" not in opened.text and "ended its turn without reporting T-1" in opened.text
    assert await kinds(service, "alert.cleared") == []


async def test_a_protocol_turn_end_without_a_report_is_nudged(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """The protocol route's turn end (its ``idle`` after ``working``) is a turn's end too."""
    from core.agent_state import AgentState, Observation, Signal
    from core.agents import _signals as agent_signals

    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    await assign(service, "Agent-5")
    await deliver_all(service)
    for state, words in ((AgentState.WORKING, "turn started"), (AgentState.IDLE, "end_turn")):
        clock.advance(1)
        seen = Observation("Agent-5", Signal.PROTOCOL, state, clock.now(), f"protocol: {words}")
        await service.store.update(agent_signals.record, seen)
    clock.advance(1)
    report = await watcher.tick()
    assert report.nudged_turns == ["Agent-5"]


async def test_a_nudge_not_yet_delivered_is_dropped_when_the_agent_reports(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """The agent reported the task done while its nudge waited in the queue (a busy pane,
    a held delivery): the nudge is superseded, not typed into its next turn (before: "your
    turn ended without reporting T-1" reached it after T-1 was done)."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    task_id = await assign(service, "Agent-6")
    await deliver_all(service)
    await turn(service, clock, "Agent-6")
    clock.advance(1)
    assert (await watcher.tick()).nudged_turns == ["Agent-6"]
    await service.tasks.complete(task_id, "Agent-6")
    assert await deliver_all(service) == []  # the nudge is not delivered
    (superseded,) = await kinds(service, "delivery.superseded")
    assert superseded.text.startswith("T-1 prompt to Agent-6 superseded (queued)"), superseded


async def test_a_pane_captured_before_the_prompt_came_is_not_the_new_turns_end(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """A look at the pane began as the last turn ended, the task's prompt was delivered while
    it was read, and it was recorded after: its idle is the last turn's end, not the new
    one's. Before: the agent was nudged while its new turn ran (a day with the real Gemini
    CLI; its nudge's turn then reported again, on the next task). A look captured after the
    prompt came that still shows the pane idle is the new turn's end."""
    from core.agent_state import AgentState, Observation, Signal
    from core.agents import _signals as agent_signals

    def look(state: AgentState, at: float) -> Observation:
        return Observation("Agent-6", Signal.TEXT, state, at, f"text: {state.value}")

    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    await assign(service, "Agent-6")
    await service.store.update(agent_signals.record, look(AgentState.WORKING, clock.now()))
    await watcher.tick()  # its last turn, still running
    captured = clock.now()  # a look begins: that turn just ended
    clock.advance(1)
    await deliver_all(service)  # the task's prompt, while the look is read
    clock.advance(1)
    await service.store.update(agent_signals.record, look(AgentState.IDLE, captured))
    report = await watcher.tick()
    assert report.nudged_turns == [] and await kinds(service, "agent.nudged") == []
    clock.advance(1)  # the next look, after the prompt: idle (the turn ended, silent)
    await service.store.update(agent_signals.record, look(AgentState.IDLE, clock.now()))
    assert (await watcher.tick()).nudged_turns == ["Agent-6"]


async def test_a_turn_quicker_than_one_look_is_seen_to_end(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """The pane was idle before the prompt and at every look after it: the turn began and
    ended between two looks (Gemini CLI at its defaults took T-30 of a day, answered in words
    within a second and went idle; the watch looks every 5 s, so no look saw it working and
    T-30 waited for its lease). An idle look one interval after the prompt reached it is that
    turn's end: nudged; a look sooner is not (the CLI may not have drawn its turn yet), nor is
    one while the nudge waits to be typed; a look an interval after the nudge reached it,
    still idle, is the second silent end."""
    from core.agent_state import AgentState, Observation, Signal
    from core.agents import _signals as agent_signals

    async def look() -> None:
        seen = Observation("Agent-6", Signal.TEXT, AgentState.IDLE, clock.now(), "text: idle")
        await service.store.update(agent_signals.record, seen)

    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    await look()  # idle, before the task
    await watcher.tick()
    await assign(service, "Agent-6")
    await deliver_all(service)  # the prompt: taken, answered and over before the next look
    clock.advance(0.5)
    await look()  # too soon after the prompt to say
    assert (await watcher.tick()).nudged_turns == []
    clock.advance(0.6)
    await look()
    report = await watcher.tick()
    assert report.nudged_turns == ["Agent-6"] and report.unreported == []
    (nudged,) = await kinds(service, "agent.nudged")
    assert "its turn ended at" in nudged.text, nudged.text
    for _ in range(2):  # the nudge still queued: no turn of it yet
        clock.advance(1)
        await look()
        assert (await watcher.tick()).unreported == []
    assert len(await deliver_all(service)) == 1  # the nudge reaches it; a quick silent turn
    clock.advance(0.5)
    await look()
    assert (await watcher.tick()).unreported == []
    clock.advance(0.6)
    await look()
    assert (await watcher.tick()).unreported == ["Agent-6"]


@pytest.mark.parametrize(("action", "status"), [("accept", "done"), ("fail", "failed")])
async def test_an_unreported_turn_can_be_accepted_as_done_or_failed_from_needs_you(
    service: SwarmService, clock: ManualClock, frames: FakeFrames, action: str, status: str
) -> None:
    """Issue 64, item 6: the person looked at the agent's work (before: only hand on,
    reassign, nudge or cancel were offered): the task is done (or failed), reported by that
    person, and the item clears."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    task_id = await assign(service, "Agent-6")
    await deliver_all(service)
    for _ in range(2):  # a silent end, nudged; then another: a person is asked
        await turn(service, clock, "Agent-6")
        clock.advance(1)
        await watcher.tick()
        await deliver_all(service)
    (need,) = [n for n in await service.inbox.needs() if n.kind == "alert"]
    assert need.actions[:2] == ("accept", "fail")
    done = await service.inbox.act(need.ref, action, "cli")
    assert done.text.startswith(f"{need.ref}: T-{task_id} ")
    task = await service.tasks.get(task_id)
    assert task.status.value == status
    clock.advance(1)
    await watcher.tick()
    assert [n for n in await service.inbox.needs() if n.kind == "alert"] == []


async def test_a_turn_a_person_stopped_is_not_nudged_and_asks_what_next(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Issue 79, item 2: after a person's stop (``swarm agents stop``: ``agent.stopped``) the
    turn's end is theirs: no nudge, no ``unreported`` item (either would start the work the
    person just stopped), but one "Needs you" item asking what next; the person's nudge
    (go on) clears it, and a silent end after it is nudged as any."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    await assign(service, "Agent-6")
    await deliver_all(service)
    hook = hook_of(service, "Agent-6")
    await hook("UserPromptSubmit")
    clock.advance(1)
    await service.roster.stopped("Agent-6", "escape", "cli")  # the person's stop
    clock.advance(1)
    await hook("Stop")  # ... and the turn it stopped ends
    for _ in range(3):
        clock.advance(1)
        report = await watcher.tick()
        assert report.nudged_turns == [] and report.unreported == [], report
    assert await deliver_all(service) == []  # nothing reached the agent: no model request
    (item,) = [n for n in await service.inbox.needs() if n.extra.get("alert") == "stopped"]
    assert item.agent == "Agent-6" and item.task == "T-1" and "waits for what next" in item.text
    assert {"nudge", "handon", "cancel", "accept", "fail"} <= set(item.actions), item.actions
    await service.inbox.act(item.ref, "nudge", "cli")  # the person: go on
    assert len(await deliver_all(service)) == 1
    await turn(service, clock, "Agent-6")  # it went on, and ended silent
    clock.advance(1)
    assert (await watcher.tick()).nudged_turns == ["Agent-6"]  # an end like any other now
    assert not [n for n in await service.inbox.needs() if n.extra.get("alert") == "stopped"]


async def test_an_idle_agent_holding_its_task_with_nothing_on_its_way_is_an_item(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """Issue 79, item 1: an agent idle by its own word since before its task's prompt came,
    which never started a turn of it (a prompt lost on its way in), nothing else on its way:
    one "Needs you" item within a minute, not a silent wait for the lease (300 s)."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    await hook_of(service, "Agent-6")("Stop")  # idle from a turn before
    clock.advance(1)
    await assign(service, "Agent-6")
    await deliver_all(service)  # the prompt "reached" it: no turn of it ever starts
    opened_at = None
    for second in range(60):
        clock.advance(1)
        report = await watcher.tick()
        assert report.nudged_turns == []
        if report.unreported:
            assert report.unreported == ["Agent-6"] and opened_at is None
            opened_at = second
    assert opened_at is not None and opened_at < 60
    (opened,) = await kinds(service, "alert.opened")
    assert "Agent-6 holds T-1 but has been idle since" in opened.text, opened.text
    assert await kinds(service, "alert.cleared") == []  # one item, kept while it is so


async def test_an_agent_waiting_for_its_answer_is_no_quiet_holder(
    service: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    """An agent idle after asking the person a question waits for the answer: no item of
    its own for holding the task, however long the person takes."""
    watcher = Watcher(service, watch_settings(**SLOW_STALL), frames)
    asking = await assign(service, "Agent-4")
    await deliver_all(service)
    await hook_of(service, "Agent-4")("UserPromptSubmit")
    await service.questions.ask(asking, "Which database?", "Agent-4")
    await hook_of(service, "Agent-4")("Stop")
    for _ in range(60):
        clock.advance(1)
        report = await watcher.tick()
        assert report.nudged_turns == [] and report.unreported == []
