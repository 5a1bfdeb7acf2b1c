"""A withdrawal on a route that stops the turn carries its notice on the next message
(issue 79, item 2).

The protocol and tmux deliverers withdraw a task by stopping the agent's turn
(``Receipt.stopped``): the notice is not typed as a turn of its own, which would be a paid
model request and would show the agent at work on what it was just told to stop. The
agent's next message (a task's prompt, a person's message, a note) begins with it, once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import Freshness
from core.agents import judge as agent_judge
from core.agents import signals as agent_signals
from core.assignment._roster import WITHDRAWN_IDLE
from core.coordinator.scheduler import Scheduler
from core.delivery._messages import DEFER_DELAY_S
from core.models import NOTICE_CARRIED, Receipt, TaskSpec
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from tests.helpers import RecordingDeliverer
from tests.watch.conftest import kinds

pytestmark = pytest.mark.both_databases
HEAD = "[swarm] WITHDRAWN from "


@dataclass
class StoppingDeliverer(RecordingDeliverer):
    """A route that stops a turn: a withdrawal is the stop, its notice not typed."""

    stops: list[Parcel] | None = None

    idle_seen: bool = False  # its pane reads idle after the stop

    async def deliver(self, parcel: Parcel) -> Receipt:
        """A withdrawal is kept aside (nothing typed); the rest as recorded."""
        if parcel.withdraw:
            self.stops = [*(self.stops or []), parcel]
            return Receipt.stopped("test", idle_seen=self.idle_seen)
        return await super().deliver(parcel)


def on_protocol(service: SwarmService) -> StoppingDeliverer:
    """Agent-1 on a route that stops turns (the protocol's), and its deliverer."""
    service.agents["Agent-1"] = replace(service.agents["Agent-1"], delivery="protocol")
    return StoppingDeliverer()


async def held_by(service: SwarmService, deliverer: RecordingDeliverer, title: str) -> str:
    """A task given to Agent-1 and its prompt delivered: its ref."""
    task = await service.tasks.create(TaskSpec(title, agent="Agent-1"), "me")
    await Scheduler(service, deliverer).run_burst()
    assert deliverer.for_agent("Agent-1")[-1].task_id == task.id
    return task.ref


async def cancelled(service: SwarmService) -> tuple[StoppingDeliverer, str]:
    """Agent-1 on the protocol route given a task, its prompt delivered, then the task
    cancelled by a person: the deliverer and the task's ref."""
    deliverer = on_protocol(service)
    ref = await held_by(service, deliverer, "first")
    await service.tasks.cancel(ref, "boss")
    return deliverer, ref


async def test_a_cancel_stops_the_turn_and_the_next_prompt_begins_with_the_notice_once(
    service: SwarmService,
) -> None:
    deliverer, ref = await cancelled(service)
    await Scheduler(service, deliverer).run_burst()
    assert deliverer.stops and len(deliverer.stops) == 1  # the stop, nothing typed
    assert [p for p in deliverer.for_agent("Agent-1") if HEAD in p.text] == []
    (done,) = [e for e in await kinds(service, "delivery.delivered") if "withdrawal" in e.text]
    assert done.text == f"{ref} withdrawal from Agent-1 done (test, {NOTICE_CARRIED})"
    nxt = await service.tasks.create(TaskSpec("second", agent="Agent-1"), "me")
    await Scheduler(service, deliverer).run_burst()
    prompt = deliverer.for_agent("Agent-1")[-1]
    assert prompt.task_id == nxt.id
    notice, task = prompt.text.split("\n\n---\n\n", 1)
    assert notice.startswith(HEAD) and f"| {ref} is no longer yours" in notice.splitlines()[0]
    assert "cancelled by boss" in notice and "Stop working on it now" in notice
    assert task.startswith("[swarm] from ") and f"task {nxt.ref}" in task.splitlines()[0]
    await service.messages.send("Agent-1", "and one more thing", "me")
    await Scheduler(service, deliverer).run_burst()
    last = deliverer.for_agent("Agent-1")[-1]
    assert "and one more thing" in last.text and HEAD not in last.text  # told once


async def test_a_message_held_before_the_cancel_carries_the_notice_after_the_stop(
    service: SwarmService, clock: ManualClock
) -> None:
    """A message queued before the cancel (held while the turn ran) reaches the agent after
    the stop, so it carries the notice: what counts is the order things reached the agent,
    not the queue's."""
    deliverer = on_protocol(service)
    ref = await held_by(service, deliverer, "first")
    deliverer.deferring["Agent-1"] = "a turn runs"
    await service.messages.send("Agent-1", "held message", "me")
    await Scheduler(service, deliverer).run_burst()
    assert "held message" not in deliverer.for_agent("Agent-1")[-1].text
    await service.tasks.cancel(ref, "boss")
    await Scheduler(service, deliverer).run_burst()  # the withdrawal is never held
    assert deliverer.stops and len(deliverer.stops) == 1
    del deliverer.deferring["Agent-1"]
    clock.advance(DEFER_DELAY_S + 1)
    await Scheduler(service, deliverer).run_burst()
    held = deliverer.for_agent("Agent-1")[-1]
    assert "held message" in held.text
    heads = [line for line in held.text.splitlines() if line.startswith(HEAD)]
    assert len(heads) == 1 and f"| {ref} is no longer yours" in heads[0]


async def test_a_reset_begins_a_new_session_and_the_notice_is_not_carried_past_it(
    service: SwarmService,
) -> None:
    deliverer, _ = await cancelled(service)
    await service.messages.reset("Agent-1", "boss")
    await service.messages.send("Agent-1", "after the reset", "me")
    for _ in range(3):
        await Scheduler(service, deliverer).run_burst()
    after = deliverer.for_agent("Agent-1")[-1]
    assert "after the reset" in after.text and HEAD not in after.text


async def test_an_agent_moved_to_a_window_since_the_stop_gets_the_notice(
    service: SwarmService,
) -> None:
    """The agent's route changed after its turn was stopped (``desktop up`` of its window
    instead of its tmux pane): its next message still carries the notice. Before: only the
    routes that stop turns read the notices due, so it was never told."""
    deliverer, ref = await cancelled(service)
    await Scheduler(service, deliverer).run_burst()
    assert deliverer.stops and len(deliverer.stops) == 1
    service.agents["Agent-1"] = replace(service.agents["Agent-1"], delivery="gui")
    await service.messages.send("Agent-1", "in its window now", "me")
    await Scheduler(service, deliverer).run_burst()
    last = deliverer.for_agent("Agent-1")[-1]
    assert "in its window now" in last.text, last
    heads = [line for line in last.text.splitlines() if line.startswith(HEAD)]
    assert len(heads) == 1 and f"| {ref} is no longer yours" in heads[0]


async def test_a_route_that_types_the_notice_carries_nothing(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    """A window's (GUI) or inbox agent's withdrawal is typed: nothing carried."""
    ref = await held_by(service, deliverer, "first")
    await service.tasks.cancel(ref, "boss")
    await service.messages.send("Agent-1", "next", "me")
    for _ in range(2):
        await Scheduler(service, deliverer).run_burst()
    texts = [p.text for p in deliverer.for_agent("Agent-1")]
    assert [HEAD in t for t in texts] == [False, True, False]


async def test_a_pane_read_idle_after_the_stop_is_the_agents_state_at_once(
    service: SwarmService,
) -> None:
    """The tmux route read the pane idle after the withdrawal's stop: the agent reads idle
    when the withdrawal is done, not at the watch's next look (3.3-3.5 s in a replayed
    day)."""
    deliverer = on_protocol(service)
    deliverer.idle_seen = True
    ref = await held_by(service, deliverer, "first")
    busy = Observation("Agent-1", Signal.TEXT, AgentState.WORKING, service.clock.now(), "work")
    await service.store.write("test", lambda conn, _ctx: agent_signals.record(conn, busy))
    await service.store.write("test", agent_judge.judge_and_apply, "Agent-1", Freshness())
    assert (await service.store.read(agent_signals.get_state, "Agent-1")).state == "working"
    await service.tasks.cancel(ref, "boss")
    await Scheduler(service, deliverer).run_burst()
    row = await service.store.read(agent_signals.get_state, "Agent-1")
    assert (row.state, row.evidence) == (AgentState.IDLE, WITHDRAWN_IDLE), row
