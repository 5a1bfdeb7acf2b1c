"""Issue 28, item 6: one rule says which actions a task's state allows
(``core/tasks/actions.py``); the service refuses exactly the others, and the Discord card and
the dashboard show exactly the allowed ones."""

from __future__ import annotations

import pytest

from bot.discordbot.cards import card_actions
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidState
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.tasks._actions import TaskAction, allowed
from tests.helpers import RecordingDeliverer

pytestmark = pytest.mark.both_databases

STATES = ("blocked", "ready", "assigned", "in_progress", "done", "failed", "cancelled", "gate")


async def _make(service: SwarmService) -> dict[str, str]:
    """One task in each state (a gate waiting for approval too); refs by state."""
    held = [
        (await service.tasks.create(TaskSpec(f"{state} one", agent=agent), "cli")).ref
        for state, agent in (
            ("assigned", "Agent-1"),
            ("in_progress", "Agent-2"),
            ("done", "Agent-3"),
            ("failed", "Agent-4"),
        )
    ]
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.start(held[1], "cli")
    await service.tasks.complete(held[2], "cli")
    await service.tasks.fail(held[3], "cli", "broke")
    ready = (await service.tasks.create(TaskSpec("ready one"), "cli")).ref
    blocked = (await service.tasks.create(TaskSpec("blocked one", after=(ready,)), "cli")).ref
    cancelled = (await service.tasks.create(TaskSpec("cancelled one"), "cli")).ref
    await service.tasks.cancel(cancelled, "cli")
    gate = await service.tasks.create_many([TaskSpec("release gate", kind="gate")], "cli")
    refs = [*held, ready, blocked, cancelled, f"T-{gate[0]}"]
    order = ("assigned", "in_progress", "done", "failed", "ready", "blocked", "cancelled", "gate")
    return dict(zip(order, refs, strict=True))


async def _try(service: SwarmService, action: TaskAction, ref: str) -> str | None:
    """Run ``action`` through the service; None when it was accepted, else the refusal."""
    calls = {
        TaskAction.retry: lambda: service.tasks.retry(ref, "cli"),
        TaskAction.cancel: lambda: service.tasks.cancel(ref, "cli"),
        TaskAction.assign: lambda: service.tasks.assign(ref, "Agent-8", "cli"),
        TaskAction.reassign: lambda: service.tasks.requeue(ref, "cli"),
        TaskAction.done: lambda: service.tasks.complete(ref, "cli"),
    }
    try:
        await calls[action]()
    except InvalidState as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("action", list(TaskAction))
async def test_the_service_refuses_exactly_what_the_rule_does_not_allow(
    service: SwarmService, action: TaskAction
) -> None:
    refs = await _make(service)
    tasks = {state: await service.tasks.get(ref) for state, ref in refs.items()}
    assert set(STATES) == set(tasks) and tasks["gate"].kind == "gate"
    assert [t.status.value for s, t in tasks.items() if s != "gate"] == [
        s for s in tasks if s != "gate"
    ]
    for state, task in tasks.items():
        permitted = action in allowed(task)
        before = await service.history.events(task=task.id, limit=1000)
        refused = await _try(service, action, task.ref)
        assert (refused is None) == permitted, (state, action, refused)
        if refused is not None:  # nothing written
            assert await service.history.events(task=task.id, limit=1000) == before
    if action is TaskAction.assign:
        gate = tasks["gate"]
        assert await _try(service, action, gate.ref) == (
            f"{gate.ref} is a gate: a person approves or rejects it, no agent takes it"
        )


async def test_discord_card_buttons_are_the_allowed_ones_it_has(service: SwarmService) -> None:
    refs = await _make(service)
    shown = {s: card_actions(await service.tasks.get(r)) for s, r in refs.items()}
    assert shown == {
        "assigned": ("done", "reassign"),
        "in_progress": ("done", "reassign"),
        "done": (),
        "failed": ("retry",),
        "ready": (),
        "blocked": (),
        "cancelled": ("retry",),
        "gate": (),
    }
