"""Nothing is typed into an agent while its hooks say it is mid-turn (issue 41, item 8;
issue 38: a broadcast's Enter typed into a real Claude Code turn answered the permission
dialog its tool call opened meanwhile, for the person).

An agent that reports its task done mid-turn (``swarm task done`` from a tool call) is still
working: its hook said ``UserPromptSubmit``/``PreToolUse`` and no ``Stop`` yet. Its next task's
prompt, a plain message, a note and a withdrawal wait until the hook says the turn ended, the
pane shows it idle since (a ``Stop`` hook killed at its timeout is lost), or that hook's
reading is older than ``SWARM_STALL_AFTER`` (the stall rules take it as no longer working
then). The hook's input is Claude Code's documented JSON, read by ``swarm hook``'s own parser
and recorded as ``swarm hook`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.agent_state import AgentState, Observation, Signal
from core.agents import _hook_events as hook_events
from core.agents import _queries as agent_queries
from core.agents import _signals as signals
from core.agents._judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.delivery import _node_claims as node_claims
from core.delivery._node_claims import Claimer
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.store.conn import Conn
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases


async def hook(service: SwarmService, agent: str, event: str, **fields: object) -> None:
    """Claude Code's hook ``event`` for ``agent``, recorded as ``swarm hook`` records it."""
    body = {
        "session_id": "abc123",
        "transcript_path": str(Path("/tmp/transcript.jsonl")),
        "cwd": "/tmp",
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }
    parsed = hook_events.parse(json.dumps(body))
    await service.store.write(agent, hook_events.record, agent, parsed, Freshness(), False)


async def pane_idle(service: SwarmService, agent: str, at: float) -> None:
    """The watcher's reading of ``agent``'s pane at ``at``: Claude Code's empty input box."""
    seen = Observation(agent, Signal.TEXT, AgentState.IDLE, at, "text: '❯' input box")
    await service.store.write(agent, lambda conn, _, obs: signals.record(conn, obs), seen)


def prompts_to(deliverer: RecordingDeliverer, agent: str) -> list[int | None]:
    """The task ids of the task prompts ``agent`` got (plain messages left out)."""
    return [p.task_id for p in deliverer.for_agent(agent) if "WITHDRAWN" not in p.text]


async def test_the_next_task_waits_for_the_hooks_stop(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    first = await service.tasks.create(TaskSpec("first", agent="Agent-1"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="[swarm] task T-1")
    await service.tasks.start(first.ref, "Agent-1")
    await hook(service, "Agent-1", "PreToolUse", tool_name="Bash", tool_input={"command": "x"})
    await service.tasks.complete(first.ref, "Agent-1")  # reported mid-turn
    second = await service.tasks.create(TaskSpec("second", agent="Agent-1"), "me")
    await scheduler.run_burst()
    assert (await service.tasks.get(second.ref)).status is TaskStatus.ready  # not given yet
    assert prompts_to(deliverer, "Agent-1") == [first.id]
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-1") == [first.id, second.id]


async def test_a_message_a_note_and_a_withdrawal_wait_for_the_turns_end_too(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("theirs", agent="Agent-1"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="[swarm] task T-1")
    await hook(service, "Agent-1", "PreToolUse", tool_name="Bash", tool_input={"command": "x"})
    await service.messages.send("Agent-1", "a note from the person", "cli")
    await service.questions.ask(task.ref, "Which branch?", "Agent-1")
    await service.questions.reply(task.ref, "use the other branch", "me")
    clock.advance(10)  # past the wait of an ``ask --wait`` that takes the answer itself
    await scheduler.run_burst()
    assert len(deliverer.for_agent("Agent-1")) == 1  # its task's prompt only
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    got = [p.text for p in deliverer.for_agent("Agent-1")[1:]]
    assert len(got) == 2 and "a note from the person" in got[0]
    assert "use the other branch" in got[1]
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="the person's own question")
    await service.tasks.assign(task.ref, "Agent-4", "boss")  # withdrawn from Agent-1
    await scheduler.run_burst()
    assert len(deliverer.for_agent("Agent-1")) == 3
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert "WITHDRAWN" in deliverer.for_agent("Agent-1")[3].text


async def test_the_pane_seen_idle_after_the_hook_ends_the_hold(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    # a Stop hook that Claude Code killed at its timeout never reaches swarm
    await hook(service, "Agent-3", "UserPromptSubmit", prompt="do it")
    said = clock.now()
    await service.messages.send("Agent-3", "a broadcast", "cli")
    task = await service.tasks.create(TaskSpec("next", agent="Agent-3"), "me")
    scheduler = Scheduler(service, deliverer)
    margin = agent_queries.TURN_END_ON_PANE_S
    await pane_idle(service, "Agent-3", said + margin - 1)  # the screen not yet drawn
    clock.advance(margin + 5)
    await scheduler.run_burst()
    assert deliverer.for_agent("Agent-3") == []
    await pane_idle(service, "Agent-3", said + margin)
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-3")] == [None]  # one turn at a time
    clock.advance(margin)
    await pane_idle(service, "Agent-3", clock.now())  # the broadcast's turn ended too
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-3")] == [None, task.id]


async def test_a_turn_swarm_began_holds_before_its_hook_says_so(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    # under load the hook that says the turn began came 10 s after the prompt was submitted
    await hook(service, "Agent-4", "Stop", stop_hook_active=False)
    task = await service.tasks.create(TaskSpec("theirs", agent="Agent-4"), "me")
    scheduler = Scheduler(service, deliverer)
    clock.advance(1)
    await scheduler.run_burst()
    clock.advance(1)
    await service.messages.send("Agent-4", "a broadcast", "cli")
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-4")] == [task.id]
    clock.advance(9)  # the pane has not shown it idle since
    await pane_idle(service, "Agent-4", clock.now())
    await hook(service, "Agent-4", "UserPromptSubmit", prompt="[swarm] task T-1")
    await scheduler.run_burst()
    assert len(deliverer.for_agent("Agent-4")) == 1
    clock.advance(1)
    await hook(service, "Agent-4", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert [p.task_id for p in deliverer.for_agent("Agent-4")] == [task.id, None]


async def test_a_task_any_agent_may_take_goes_to_one_not_mid_turn(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="a person's own question")
    task = await service.tasks.create(TaskSpec("anyone"), "me")  # Agent-1 is first in the file
    await Scheduler(service, deliverer).run_burst()
    taken = await service.tasks.get(task.ref)
    assert taken.agent not in (None, "Agent-1") and prompts_to(deliverer, taken.agent) == [task.id]


async def test_a_prompt_queued_before_the_turn_began_waits_for_its_end(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    task = await service.tasks.create(TaskSpec("queued", agent="Agent-1"), "me")
    await service.queue.assign_batch()  # given while Agent-1 was idle
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="the person typed first")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-1") == []
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-1") == [task.id]


async def test_a_permission_dialog_holds_the_prompt_too(
    service: SwarmService, deliverer: RecordingDeliverer
) -> None:
    await hook(service, "Agent-2", "UserPromptSubmit", prompt="do it")
    await hook(
        service,
        "Agent-2",
        "Notification",
        message="Claude needs your permission to use Bash",
        notification_type="permission_prompt",
    )
    task = await service.tasks.create(TaskSpec("next", agent="Agent-2"), "me")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-2") == []
    await hook(service, "Agent-2", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-2") == [task.id]


async def test_a_working_hook_older_than_the_stall_window_holds_no_more(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    # a CLI killed mid-turn never says Stop: its last 'working' holds SWARM_STALL_AFTER long
    await hook(service, "Agent-3", "UserPromptSubmit", prompt="do it")
    task = await service.tasks.create(TaskSpec("next", agent="Agent-3"), "me")
    scheduler = Scheduler(service, deliverer)
    clock.advance(service.settings.turn_hold_s - 1)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-3") == []
    clock.advance(2)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-3") == [task.id]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_delivery_node_holds_the_prompt_as_the_coordinator_does(
    service: SwarmService, clock: ManualClock
) -> None:
    await service.tasks.create(TaskSpec("next", agent="Agent-1"), "me")
    await service.queue.assign_batch()
    await hook(service, "Agent-1", "UserPromptSubmit", prompt="the person typed first")
    node = Claimer("desk-2", "run-a")
    hold = service.settings.turn_hold_s

    async def claim() -> list[node_claims.Claim]:
        return await service.store.write_concurrent(
            node_claims.claim, node, ["Agent-1"], clock.now(), 30.0, 8, hold
        )

    assert await claim() == []
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    (held,) = await claim()
    assert held.delivery.task_id == 1


async def test_an_agent_judged_stalled_gets_its_nudge_mid_turn(
    service: SwarmService, deliverer: RecordingDeliverer, clock: ManualClock
) -> None:
    # its hook's last word was a tool call; nothing has moved since: the turn is no work
    await hook(service, "Agent-2", "PreToolUse", tool_name="Bash", tool_input={"command": "x"})
    await service.messages.send("Agent-2", "are you still there?", "cli")
    scheduler = Scheduler(service, deliverer)
    await scheduler.run_burst()
    assert deliverer.for_agent("Agent-2") == []

    def stalled(conn: Conn, _: object) -> None:
        signals.set_state(conn, "Agent-2", AgentState.STALLED, clock.now(), None, "no news")

    await service.store.write("watch", stalled)
    await scheduler.run_burst()
    assert len(deliverer.for_agent("Agent-2")) == 1
