"""The watcher on a virtual screen: real frames grabbed from real Tk windows on Xvfb.

Time is a ManualClock: each step advances it a minute and drives one tick directly, so a
30-minute scenario takes seconds. Agent-1's window changes (we type into it); the others
are frozen. Skips without Xvfb, fails instead when SWARM_REQUIRE_XVFB=1.
"""

from __future__ import annotations

import time
from io import BytesIO
from typing import Any

from PIL import Image

from automation.desktop.watch import ScreenFrames, screenshot_png
from core.agents._frames import change_between, thumbnail_size
from core.agents._screen_judge import caret_limit
from core.coordinator.jobs import Watcher
from core.models import TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.watch.conftest import assign, desktop_env, kinds, watch_settings


def type_into(server: Any, index: int, text: str) -> None:
    """Click window ``index``'s chat input, give it the keyboard and type ``text``.

    There is no window manager, so a click alone does not move the keyboard focus: the
    "person" focuses the window as their window manager would.
    """
    x, y = desktop_env().input_point(index)
    where = server.xdotool("mousemove", str(x), str(y), "click", "1", "getmouselocation", "--shell")
    window = dict(line.split("=") for line in where.split())["WINDOW"]
    server.xdotool("windowfocus", "--sync", window, "type", "--delay", "1", text)


def wait_until_shown(watcher: Watcher, agent: Any, timeout: float = 10.0) -> None:
    """Wait (bounded) until the agent's watched region shows more than a caret's change from
    the watcher's last frame (its caret may blink before the typed text is drawn)."""
    assert watcher.frames is not None
    before = watcher._last[agent.id]
    size = thumbnail_size(agent.watch[2], agent.watch[3])
    widest = caret_limit(size[0] / agent.watch[2])[0]
    deadline = time.monotonic() + timeout
    while True:
        change = change_between(before, watcher.frames.grab(agent) or before, size)
        if change is not None and change.box.width > widest:
            return
        assert time.monotonic() < deadline, f"{agent.id}'s window did not show the typing"
        time.sleep(0.02)


async def states(service: SwarmService) -> dict[str, str]:
    return {r["id"]: r["state"] for r in await service.roster.rows()}


async def test_changing_window_works_frozen_one_stalls_idle_ones_are_left_alone(
    desktop_service: SwarmService, clock: ManualClock, windows: Any, watch_xserver: Any
) -> None:
    service = desktop_service
    start = clock.now()
    busy = await assign(service, "Agent-1", "busy work")
    frozen = await assign(service, "Agent-2", "frozen work")
    watcher = Watcher(service, watch_settings(), ScreenFrames())
    try:
        first = await watcher.tick()  # the baseline frames
        assert first.active == [] and len(watcher._last) == 8
        seen: dict[float, dict[str, str]] = {}
        for minute in range(1, 31):
            clock.advance(60)
            type_into(watch_xserver, 0, f"m{minute} ")
            wait_until_shown(watcher, service.agents["Agent-1"])
            report = await watcher.tick()
            assert report.active == ["Agent-1"], (minute, report)
            seen[minute * 60] = await states(service)
    finally:
        await watcher.close()
    assert all(s["Agent-1"] == "working" for s in seen.values())
    # its window is quiet (idle) until the stall rule says stalled
    assert [seen[t]["Agent-2"] for t in (540, 600, 1740)] == ["idle", "stalled", "stalled"]
    assert seen[1800]["Agent-2"] == "idle"
    nudges = await kinds(service, "agent.nudged")
    assert [(e.agent, e.ts - start) for e in nudges] == [("Agent-2", 600), ("Agent-2", 900)]
    assert (await service.tasks.get(busy)).agent == "Agent-1"
    task = await service.tasks.get(frozen)
    assert task.status is TaskStatus.ready and "Agent-2 stalled" in (task.reason or "")
    idle = {f"Agent-{i}" for i in range(3, 9)}
    for kind in ("agent.nudged", "alert.opened"):
        assert idle.isdisjoint(e.agent for e in await kinds(service, kind))
    assert all(s[a] == "idle" for s in seen.values() for a in idle)


async def test_grace_period_on_a_frozen_window(
    desktop_service: SwarmService, clock: ManualClock, windows: Any
) -> None:
    service = desktop_service
    start = clock.now()
    await assign(service, "Agent-5")
    watcher = Watcher(
        service,
        watch_settings(stall_after_s=60, grace_s=300, reassign_after_s=3600),
        ScreenFrames(),
    )
    try:
        for _ in range(12):
            clock.advance(30)
            report = await watcher.tick()
            assert report.active == []
    finally:
        await watcher.close()
    nudges = await kinds(service, "agent.nudged")
    assert [e.ts - start for e in nudges] == [300]


async def test_screenshot_is_the_watched_region(
    windows: Any, desktop_service: SwarmService
) -> None:
    agent = desktop_service.agents["Agent-3"]
    image = Image.open(BytesIO(screenshot_png(agent)))
    assert image.format == "PNG" and image.size == (460, 490)
