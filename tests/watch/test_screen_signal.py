"""The screen signal on real windows: a caret that blinks by default is no activity.

Real Tk, xterm and Chromium ``--app`` windows on the session's Xvfb, each with the keyboard
focus and its DEFAULT caret (Tk: 2 pixels, 600/300 ms; Chromium: 1 pixel, 500/500 ms;
xterm: a steady block), grabbed by the real ``ScreenFrames`` through a real ``Watcher``.
Looks are taken in real time: at a caret 0.2 s apart, less than a default caret stays on or
off (Tk's 300 ms off), so every blink is in the frames, seen at varying phases; at text
that streams 0.35 s apart, longer than its 150-200 ms between lines. The rules' clock is a
ManualClock, advanced a minute a look, as in the issue's measurement. A window is looked at
once it is drawn (``drawn``): still but for its caret, or streaming.
Also the recorded frames of ``tests/data/screen`` (``bench/screen_record.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from automation.desktop.watch import ScreenFrames
from core.agents._frames import change_between, frames_differ, thumbnail_size
from core.agents._screen_judge import (
    IDLE,
    RECHECK_S,
    SMALL,
    UNKNOWN,
    WORKING,
    ScreenJudge,
    caret_limit,
    spoken_duration,
)
from core.coordinator.jobs import Watcher
from core.models import Agent, TaskStatus
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import write_agents
from tests.watch.conftest import assign, kinds, watch_settings

BOX = (960, 540, 400, 300)  # a free cell of the shared screen (the app desktop uses others)
LOOK_S = 0.35  # between looks at text that streams (a line every 150-200 ms)
CARET_LOOK_S = 0.2  # between looks at a caret: less than a default caret stays on or off
STILL_S = 0.5  # a window no longer drawing: nothing larger than a caret changed this long
DATA = Path(__file__).resolve().parents[1] / "data" / "screen"


@pytest.fixture
def screen_window(watch_xserver: Any, tmp_path: Path) -> Iterator[Any]:
    """Open a window of a kind (tests/apps/screen_windows.py) with the focus; closed after."""
    from tests.apps import screen_windows
    from tests.apps.desktop import missing_reason
    from tests.conftest import skip_or_fail

    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    opened: list[Any] = []

    def start(kind: str) -> Any:
        window = screen_windows.open_window(
            watch_xserver, kind, BOX, tmp_path / f"w{len(opened)}", f"Screen-{len(opened)}"
        )
        opened.append(window)
        return window

    yield start
    for window in opened:
        window.stop()


@pytest.fixture
async def one_agent(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Any]:
    """A service whose one agent watches BOX, on the manual clock."""
    x, y, width, height = BOX
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "Agent-1", "role": "dev", "input": [x + 100, y + 100],
          "watch": [x, y, width, height]}],
    )  # fmt: skip
    env = {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    settings = Settings.from_env(env)
    service = await SwarmService.open(settings, clock)
    yield service
    await service.close()


async def drawn(service: SwarmService, streaming: bool = False) -> None:
    """Wait until the window on BOX is drawn, focused and, a page, its script run: a window
    that streams shows a change larger than a caret in two grabs in a row (0.25 s apart); any
    other shows none for STILL_S and is not blank (its caret may blink meanwhile)."""
    agent = service.agents["Agent-1"]
    size = thumbnail_size(BOX[2], BOX[3])
    caret = caret_limit(size[0] / BOX[2])
    source = ScreenFrames()
    deadline = time.monotonic() + 30
    try:
        before, since, changes = source.grab(agent), time.monotonic(), 0
        while changes < 2 if streaming else time.monotonic() - since < STILL_S:
            assert time.monotonic() < deadline, f"the window was not drawn ({streaming=})"
            await asyncio.sleep(0.25 if streaming else 0.1)  # streams: a line every 150-200 ms
            frame = source.grab(agent)
            assert before is not None and frame is not None
            change = change_between(before, frame, size)
            big = change is not None and (
                change.box.width > caret[0] or change.box.height > caret[1]
            )
            changes, before = changes + 1 if big else 0, frame
            since = time.monotonic() if big or len(set(frame)) == 1 else since  # blank
    finally:
        source.close()


async def looks_at(
    service: SwarmService, clock: ManualClock, count: int, apart_s: float = CARET_LOOK_S
) -> list[Any]:
    """``count`` watcher ticks, ``apart_s`` apart in real time and a minute apart on the
    clock: (the agents judged changed, the agent's look) at each."""
    watcher = Watcher(service, watch_settings(), ScreenFrames())
    seen = []
    try:
        await watcher.sample()  # the first frame
        for _ in range(count):
            await asyncio.sleep(apart_s)
            clock.advance(60)
            changed = await watcher.sample()
            seen.append((changed, watcher.looks.get("Agent-1")))
    finally:
        await watcher.close()
    return seen


@pytest.mark.parametrize("kind", ["tk-caret", "xterm", "chrome"])
async def test_a_frozen_window_with_its_default_caret_is_not_working(
    kind: str, screen_window: Any, one_agent: SwarmService, clock: ManualClock
) -> None:
    screen_window(kind)
    await drawn(one_agent)
    seen = await looks_at(one_agent, clock, 12)
    assert [changed for changed, _ in seen] == [[]] * 12
    assert all(look.state != WORKING for _, look in seen)
    last = seen[-1][1]
    assert last.state == IDLE and last.evidence.startswith("screen: no change for 12 m 0 s")


async def test_a_blinking_caret_is_seen_and_ignored(
    screen_window: Any, one_agent: SwarmService, clock: ManualClock
) -> None:
    """Tk's caret blinks in the frames (the old rule counts it) and the evidence says so."""
    screen_window("tk-caret")
    await drawn(one_agent)
    agent = one_agent.agents["Agent-1"]

    async def grabbed() -> list[bytes | None]:  # the frames 0.1 s apart, beside the looks
        source = ScreenFrames()
        try:
            frames = [source.grab(agent)]
            for _ in range(12):
                await asyncio.sleep(0.1)
                frames.append(source.grab(agent))
        finally:
            source.close()
        return frames

    frames, seen = await asyncio.gather(grabbed(), looks_at(one_agent, clock, 12))
    assert all(frames) and any(frames_differ(a, b) for a, b in itertools.pairwise(frames))  # type: ignore[arg-type]
    assert any("(caret blinks ignored)" in look.evidence for _, look in seen)


@pytest.mark.parametrize("kind", ["tk-stream", "xterm-stream", "chrome-stream", "tk-scroll"])
async def test_a_window_printing_text_is_working(
    kind: str, screen_window: Any, one_agent: SwarmService, clock: ManualClock
) -> None:
    screen_window(kind)
    await drawn(one_agent, streaming=True)
    seen = await looks_at(one_agent, clock, 6, LOOK_S)
    assert [changed for changed, _ in seen] == [["Agent-1"]] * 6
    assert [look.state for _, look in seen] == [UNKNOWN] + [WORKING] * 5
    assert seen[-1][1].evidence == "screen: changed in 6 looks in a row"


async def test_a_frozen_agent_with_a_blinking_caret_stalls_once_and_is_reassigned(
    screen_window: Any, one_agent: SwarmService, clock: ManualClock
) -> None:
    """The issue's measurement: stall after 4 min, reassign after 14, a look a minute; the
    frozen agent's caret blinks (its window kept the focus). Before: opened and cleared
    every other look, never reassigned."""
    service = one_agent
    screen_window("tk-caret")
    await drawn(service)
    task = await assign(service, "Agent-1", "frozen work")
    settings = watch_settings(stall_after_s=240, reassign_after_s=840, grace_s=0)
    watcher = Watcher(service, settings, ScreenFrames())
    try:
        for _ in range(16):
            await watcher.tick()
            await asyncio.sleep(CARET_LOOK_S)
            clock.advance(60)
    finally:
        await watcher.close()
    opened = await kinds(service, "alert.opened")
    cleared = await kinds(service, "alert.cleared")
    assert len(opened) == 1
    assert [e.text for e in cleared] == ["Agent-1: T-1 taken back after 14 min without activity"]
    assert (await service.tasks.get(task)).status is TaskStatus.ready


def recordings() -> list[dict[str, Any]]:
    """The recorded scenarios (tests/data/screen/manifest.jsonl), with their frames."""
    found = []
    for line in (DATA / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        width, height = entry["size"]
        strip = Image.open(DATA / f"{entry['name']}.png").convert("L")
        distinct = [
            strip.crop((0, i * height, width, (i + 1) * height)).tobytes()
            for i in range(strip.height // height)
        ]
        found.append({**entry, "frames": [distinct[i] for i in entry["steps"]]})
    return found


def replay(
    rec: dict[str, Any], every: int, start: int, recheck_every: int = 1
) -> list[tuple[bool, Any]]:
    """Looks every ``every`` steps (0.1 s) from ``start``, a small change rechecked on the
    frames that follow it as the watcher does (each ``recheck_every`` steps: more than one
    is a loaded machine's late rechecks): (visibly changed since the last look, look)."""
    judge = ScreenJudge()
    agent = Agent(rec["name"], "dev", watch=(0, 0, *rec["region"]))
    frames, looks, step, before = rec["frames"], [], start, None
    while step < len(frames):
        look, end = judge.look(agent, frames[step], step * 0.1), step
        while look.verdict == SMALL and end + recheck_every < len(frames):
            end += recheck_every
            last = end - step >= round(RECHECK_S / 0.1)
            settled = judge.recheck(agent, frames[end], end * 0.1, last)
            look = settled or look
            if settled is not None or last:
                break
        if look.verdict == SMALL:
            break  # the recording ended before the recheck could settle it
        if before is not None:
            looks.append((frames[step] != before, look))
        before, step = frames[step], max(step + every, end + 1)
    return looks


@pytest.mark.parametrize("every", [3, 5, 7, 10, 20])
def test_recorded_carets_are_never_activity_at_any_phase(every: int) -> None:
    stills = [r for r in recordings() if r["truth"] == "still"]
    assert len(stills) == 6
    for rec in stills:
        for start in range(every):
            for _visible, look in replay(rec, every, start):
                assert not look.changed and look.state != WORKING, (rec["name"], start, look)


@pytest.mark.parametrize("recheck_every", [2, 3])
def test_recorded_carets_are_never_activity_when_the_rechecks_come_late(
    recheck_every: int,
) -> None:
    """A loaded machine's rechecks 0.2 or 0.3 s apart instead of 0.1 see a caret toggle
    back and blink again before it seems to stay (Tk's is off 0.3 s): still a blink."""
    stills = [r for r in recordings() if r["truth"] == "still"]
    for rec in stills:
        for every in (3, 5, 7, 10):
            for start in range(every):
                for _visible, look in replay(rec, every, start, recheck_every):
                    assert not look.changed and look.state != WORKING, (rec["name"], start, look)


@pytest.mark.parametrize("recheck_every", [1, 3])  # 3: late rechecks do not hide activity
@pytest.mark.parametrize("every", [3, 5, 10])
def test_recorded_streaming_scrolling_typing_and_resizing_are_activity(
    every: int, recheck_every: int
) -> None:
    active = {r["name"]: r for r in recordings() if r["truth"] == "active"}
    names = (
        "tk-stream",
        "tk-scroll",
        "xterm-stream",
        "chrome-stream",
        "tk-resize",
        "chrome-typing",
    )
    for name in names:
        for start in range(every):
            looks = replay(active[name], every, start, recheck_every)
            assert all(look.changed for visible, look in looks if visible), (name, start)
            runs = zip(looks, looks[1:], looks[2:], strict=False)
            assert all(c[1].state == WORKING for a, b, c in runs if a[0] and b[0]), (name, start)


def test_spoken_durations() -> None:
    assert [spoken_duration(s) for s in (4.4, 59.6, 190, 7500)] == [
        "4 s",
        "1 m 0 s",
        "3 m 10 s",
        "2 h 5 m",
    ]
