"""The board shows each active card's holder state with its reason, caps the Done column
at the latest finished, and the task page names the holder by the task's state, also after
a review reopened it (issue 41, item 8)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from core.agents import _hook_events as hook_events
from core.agents._judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import RecordingDeliverer
from tests.web.test_pages import login

pytestmark = pytest.mark.both_databases


async def hook(service: SwarmService, agent: str, event: str, **fields: object) -> None:
    """Claude Code's hook ``event`` for ``agent``, recorded as ``swarm hook`` records it."""
    body = {"session_id": "s1", "cwd": "/tmp", "hook_event_name": event, **fields}
    parsed = hook_events.parse(json.dumps(body))
    await service.store.write(agent, hook_events.record, agent, parsed, Freshness(), False)


def card_of(page: str, ref: str) -> str:
    """The HTML of one card on the board."""
    found = re.search(rf'<article class="card[^"]*" id="task-{ref}".*?</article>', page, re.S)
    assert found is not None, ref
    return found.group(0)


async def test_an_active_card_shows_its_holders_state_and_why(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    first = await service.tasks.create(TaskSpec("parse", agent="Agent-1"), "cli")
    second = await service.tasks.create(TaskSpec("lint", agent="Agent-2"), "cli")
    waiting = await service.tasks.create(TaskSpec("later", agent="Agent-3"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.start(first.ref, "Agent-1")
    await hook(service, "Agent-1", "PreToolUse", tool_name="Bash", tool_input={"command": "ls"})
    await hook(
        service,
        "Agent-2",
        "Notification",
        message="Claude needs your permission to use Bash",
        notification_type="permission_prompt",
    )
    await service.roster.set_paused("Agent-3", True, "cli")
    await login(client, admin_token)
    board = (await client.get("/")).text
    working = card_of(board, first.ref)
    assert 'data-agent="Agent-1"' in working
    assert re.search(
        r'class="agent-state state-working"[^>]*>working: <span class="why">'
        r"hook: PreToolUse Bash",
        working,
    ), working
    asking = card_of(board, second.ref)
    assert 'class="agent-state state-waiting"' in asking
    assert "Claude needs your permission to use Bash" in asking
    assert ", paused" in card_of(board, waiting.ref)
    card = (await client.get(f"/board/card/{first.ref}")).text  # the live refresh's card
    assert "state-working" in card and "hook: PreToolUse Bash" in card


async def test_the_done_column_shows_the_latest_finished_and_a_show_all_link(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str, clock: ManualClock
) -> None:
    for n in range(25):  # T-1 finishes first, T-25 last
        task = await service.tasks.create(TaskSpec(f"chore {n}", agent="Agent-1"), "cli")
        await service.queue.assign_batch()
        await service.tasks.complete(task.ref, "Agent-1")
        clock.advance(1)
    await login(client, admin_token)
    board = (await client.get("/")).text
    done = board[board.index('id="col-done"') : board.index('id="col-failed"')]
    assert re.search(r'id="count-done">25<', done) and 'data-cap="20"' in done
    shown = re.findall(r'id="task-(T-\d+)"', done)
    assert shown == [f"T-{n}" for n in range(25, 5, -1)]  # the latest finished first
    assert re.search(r'<a class="more" id="all-done" href="/\?status=done">[^<]*show all</a>', done)
    whole = (await client.get("/?status=done")).text
    assert whole.count('<article class="card') == 25


async def test_the_task_page_names_the_holder_by_state_also_after_a_review_reopens_it(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    task = await service.tasks.create(TaskSpec("parse", agent="Agent-2"), "cli")
    scheduler = Scheduler(service, RecordingDeliverer())
    await scheduler.run_burst()
    await service.tasks.start(task.ref, "Agent-2")
    await service.tasks.complete(task.ref, "Agent-2", "parsed")
    await login(client, admin_token)
    page = (await client.get(f"/tasks/{task.ref}")).text
    assert '<span id="task-holder">done by <b>Agent-2</b></span>' in page
    assert "held by" not in page and "agent-state" not in page  # a done task has no holder
    await service.reviews.send_one(task.ref, "web:laptop", "handle empty input too")
    assert (await service.tasks.get(task.ref)).status is TaskStatus.in_progress
    await hook(service, "Agent-2", "UserPromptSubmit", prompt="Review of T-1")
    page = (await client.get(f"/tasks/{task.ref}")).text
    assert '<span id="task-holder">held by <b>Agent-2</b></span>' in page
    assert 'class="agent-state state-working"' in page


async def test_the_task_page_shows_the_handoff_of_a_task_that_changed_hands(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    task = await service.tasks.create(TaskSpec("parse", agent="Agent-1"), "cli")
    scheduler = Scheduler(service, RecordingDeliverer())
    await scheduler.run_burst()
    await service.tasks.start(task.ref, "Agent-1", "lexer done")
    await login(client, admin_token)
    assert "<h2>Handoff</h2>" not in (await client.get(f"/tasks/{task.ref}")).text
    await service.tasks.assign(task.id, "Agent-2", "cli")
    await scheduler.run_burst()
    page = (await client.get(f"/tasks/{task.ref}")).text
    assert "<h2>Handoff</h2>" in page
    assert "HANDOFF: T-1 comes to you from Agent-1" in page and "- lexer done" in page
