"""The next task is not pasted while the agent's hooks say it is mid-turn (issue 41, item 8).

An agent that reports its task done mid-turn (``swarm task done`` from a tool call) is still
working: its hook said ``UserPromptSubmit``/``PreToolUse`` and no ``Stop`` yet. Its next task's
prompt waits until the hook says the turn ended, or until that hook's reading is older than
``SWARM_STALL_AFTER`` (the stall rules take it as no longer working then). A plain message and
a withdrawal still go. The hook's input is Claude Code's documented JSON, read by
``swarm hook``'s own parser and recorded as ``swarm hook`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.agents import hook_events
from core.agents.judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.delivery import node_claims
from core.delivery.node_claims import Claimer
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
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
    await service.messages.send("Agent-1", "a note from the person", "cli")  # a message is not held
    await hook(service, "Agent-1", "PreToolUse", tool_name="Read", tool_input={"file_path": "a"})
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-1") == [first.id, None]
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    await scheduler.run_burst()
    assert prompts_to(deliverer, "Agent-1") == [first.id, None, second.id]


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
        return await service.store.db.write_concurrent(
            node_claims.claim, node, ["Agent-1"], clock.now(), 30.0, 8, hold
        )

    assert await claim() == []
    await hook(service, "Agent-1", "Stop", stop_hook_active=False)
    (held,) = await claim()
    assert held.delivery.task_id == 1
