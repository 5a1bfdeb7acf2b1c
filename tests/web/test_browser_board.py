"""The board in a real browser (issue 41, item 8): an active card follows its holder's state
live, and the Done column keeps its latest cards as tasks finish."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.agents import _hook_events as hook_events
from core.agents._judge import Freshness
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.helpers import RecordingDeliverer, write_agents
from tests.web.live import LiveDashboard
from tests.web.test_browser import contains, open_page, until


@pytest.fixture(scope="module")
def board_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDashboard]:
    """A dashboard over a home of its own with two inbox agents."""
    root = tmp_path_factory.mktemp("board")
    agents_file = root / "agents.toml"
    write_agents(
        agents_file,
        [
            {"id": "Agent-1", "role": "dev", "delivery": "inbox"},
            {"id": "Agent-2", "role": "dev", "delivery": "inbox"},
        ],
    )
    live = LiveDashboard({"SWARM_HOME": str(root / "home"), "SWARM_CONFIG": str(agents_file)})
    live.start()
    yield live
    live.stop()


def _hook(agent: str, event: str, **fields: object) -> Any:
    async def record(service: SwarmService) -> None:
        body = {"session_id": "s1", "cwd": "/tmp", "hook_event_name": event, **fields}
        parsed = hook_events.parse(json.dumps(body))
        await service.store.write(agent, hook_events.record, agent, parsed, Freshness(), False)

    return record


async def _working_and_done(service: SwarmService) -> str:
    """A task Agent-1 works on, and 20 done by Agent-2; the working one's ref."""
    for n in range(20):
        task = await service.tasks.create(TaskSpec(f"chore {n}", agent="Agent-2"), "cli")
        await service.queue.assign_batch()
        await service.tasks.complete(task.ref, "Agent-2")
    held = await service.tasks.create(TaskSpec("parse the grammar", agent="Agent-1"), "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.start(held.ref, "Agent-1")
    return held.ref


async def _one_more_done(service: SwarmService) -> str:
    task = await service.tasks.create(TaskSpec("the 21st", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.tasks.complete(task.ref, "Agent-2")
    return task.ref


@pytest.mark.asyncio(loop_scope="session")
async def test_a_card_follows_its_holders_state_and_done_keeps_its_latest(
    browser: Any,
    board_home: LiveDashboard,
    tmp_path: Path,
) -> None:
    live = board_home
    ref = await asyncio.to_thread(live.call, _working_and_done)
    page = await open_page(browser, live, "/")
    state = page.locator(f"#task-{ref} .agent-state")
    await asyncio.to_thread(live.call, _hook("Agent-1", "PreToolUse", tool_name="Bash"))
    await until(lambda: contains(state, "working: hook: PreToolUse Bash"), "the card says working")
    await asyncio.to_thread(
        live.call,
        _hook(
            "Agent-1",
            "Notification",
            message="Claude needs your permission to use Bash",
            notification_type="permission_prompt",
        ),
    )
    await until(lambda: contains(state, "waiting: hook: Notification"), "the card says waiting")
    assert await page.locator("#col-done .card").count() == 20
    latest = await asyncio.to_thread(live.call, _one_more_done)
    first = page.locator("#col-done .card").first
    await until(lambda: contains(first, latest), "the new done card on top")
    assert await page.locator("#col-done .card").count() == 20  # the oldest left the column
    assert await page.locator("#count-done").inner_text() == "21"
    await page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
    await page.close()


async def _stalled_holder(service: SwarmService) -> str:
    """A task Agent-1 holds and a stalled alert on Agent-1: the alert's ref."""
    from core.agents import _alerts as alerts

    await service.tasks.create(TaskSpec("stuck work", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    await service.store.write(
        "watch", alerts.open_alert, "Agent-1", alerts.STALLED, "Agent-1 stalled"
    )
    return next(n.ref for n in await service.inbox.needs() if n.kind == "alert")


def _pinned(ref: str) -> Any:
    async def read(service: SwarmService) -> str | None:
        return (await service.tasks.get(ref)).pinned

    return read


@pytest.mark.asyncio(loop_scope="session")
async def test_reassign_in_needs_you_gives_the_task_to_the_agent_picked(
    browser: Any,
    board_home: LiveDashboard,
) -> None:
    live = board_home
    alert = await asyncio.to_thread(live.call, _stalled_holder)
    task = await asyncio.to_thread(live.call, lambda s: s.inbox.item(alert))
    page = await open_page(browser, live, "/inbox")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.select_option(f"#reassign-{alert}", "Agent-2")
    await page.click(f"#need-{alert} button.need-reassign")

    async def given() -> bool:
        return await asyncio.to_thread(live.call, _pinned(task.task)) == "Agent-2"

    await until(given, "the task pinned to Agent-2")
    await page.close()


async def _stalled_second(service: SwarmService) -> str:
    """Another task, held by Agent-2, and a stalled alert on Agent-2: the alert's ref."""
    from core.agents import _alerts as alerts

    await service.tasks.create(TaskSpec("phone work", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    await service.store.write(
        "watch", alerts.open_alert, "Agent-2", alerts.STALLED, "Agent-2 stalled"
    )
    return next(
        n.ref for n in await service.inbox.needs() if n.kind == "alert" and n.agent == "Agent-2"
    )


async def _nudges(service: SwarmService) -> int:
    return len([e for e in await service.history.events(limit=500) if e.kind == "agent.nudged"])


@pytest.mark.asyncio(loop_scope="session")
async def test_needs_you_on_a_phone_shows_every_action_in_view_and_they_work(
    browser: Any,
    board_home: LiveDashboard,
) -> None:
    """Issue 41, item 1: the phone layout (390 px) on its own: a stalled agent's alert
    offers Hand on, Reassign, Nudge and Cancel inside the screen, no sideways scroll, and a
    press acts."""
    live = board_home
    alert = await asyncio.to_thread(live.call, _stalled_second)
    page = await open_page(browser, live, "/inbox", width=390)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    need = page.locator(f"#need-{alert}")
    for action in ("handon", "nudge", "cancel", "reassign"):
        button = need.locator(f'button[data-need-action$="/{alert}/{action}"]')
        assert await button.count() == 1, action
        await button.scroll_into_view_if_needed()
        box = await button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, action
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    before = await asyncio.to_thread(live.call, _nudges)
    await need.locator(f'button[data-need-action$="/{alert}/nudge"]').click()

    async def nudged() -> bool:
        return await asyncio.to_thread(live.call, _nudges) > before

    await until(nudged, "the agent nudged")
    await page.close()
