"""Fixtures: watcher settings, a scriptable frame source, and (for the desktop tests) a
private Xvfb with the eight demo agent windows (automation/desktop/virtual_desktop.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from core.models import Agent, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.settings import WatchSettings

REQUIRED_TOOLS = ("Xvfb", "xsel", "xdotool")


def desktop_env() -> ModuleType:
    """The virtual desktop module (Xvfb and the eight demo windows)."""
    from automation.desktop import virtual_desktop

    return virtual_desktop


class FakeFrames:
    """A FrameSource whose frames the test sets: ``frames[agent] = b"..."`` (None: no frame)."""

    def __init__(self) -> None:
        self.frames: dict[str, bytes | None] = {}
        self.closed = False

    def grab(self, agent: Agent) -> bytes | None:
        """The frame the test set for ``agent``."""
        return self.frames.get(agent.id)

    def change(self, agent: str) -> None:
        """Make the next frame of ``agent`` differ clearly from the current one."""
        current = self.frames.get(agent) or bytes(64)
        self.frames[agent] = bytes((b + 100) % 256 for b in current)

    def close(self) -> None:
        """Remember that it was closed."""
        self.closed = True


def watch_settings(**overrides: Any) -> WatchSettings:
    """The defaults of the issue (10 min stall, 5 min cooldown, 2 nudges, 30 min, 2 min)."""
    values: dict[str, Any] = {
        "interval_s": 5.0,
        "stall_after_s": 600.0,
        "nudge_cooldown_s": 300.0,
        "max_nudges": 2,
        "reassign_after_s": 1800.0,
        "grace_s": 120.0,
        "unreachable_after": 3,
        "daily_summary": None,
    }
    return WatchSettings(**(values | overrides))


async def assign(service: SwarmService, agent: str, title: str = "work") -> int:
    """Create a task pinned to ``agent`` and assign it now; its id."""
    task = await service.tasks.create(TaskSpec(title, agent=agent), "test")
    await service.queue.assign_batch()
    assert (await service.tasks.get(task.id)).agent == agent
    return task.id


async def kinds(service: SwarmService, kind: str) -> list[Any]:
    """Every event of one kind, oldest first."""
    return [e for e in await service.history.events(limit=100_000) if e.kind == kind]


@pytest.fixture
def frames() -> FakeFrames:
    """A scriptable frame source."""
    return FakeFrames()


@pytest.fixture(scope="session")
def watch_xserver(shared_xvfb: Any) -> Iterator[Any]:
    """The session's Xvfb (tests/conftest.py), with DISPLAY pointing at it meanwhile."""
    with desktop_env().display_env(shared_xvfb):
        yield shared_xvfb


@pytest.fixture
def windows(watch_xserver: Any, tmp_path: Path) -> Iterator[Any]:
    """The eight Tk agent windows, closed after the test."""
    opened = desktop_env().open_windows(watch_xserver, tmp_path / "windows")
    try:
        yield opened
    finally:
        opened.stop()


@pytest.fixture
def desktop_agents(tmp_path: Path) -> Path:
    """An agents file for the windows; each watch region covers the window's chat input too,
    so typing into it is visible activity."""
    env = desktop_env()
    parts = []
    for i in range(8):
        x, y = env.input_point(i)
        left, top = (i % 4) * 480 + 10, (i // 4) * 540 + 40
        parts.append(
            f'[[agent]]\nid = "Agent-{i + 1}"\nrole = "role{i + 1}"\n'
            f'capabilities = ["python"]\ninput = [{x}, {y}]\n'
            f"watch = [{left}, {top}, 460, 490]\n"
        )
    path = tmp_path / "agents.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


@pytest.fixture
async def desktop_service(
    home: Path, desktop_agents: Path, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """The service over the desktop agents file, on the manual clock."""
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(desktop_agents)})
    service = await SwarmService.open(settings, clock)
    yield service
    await service.close()
