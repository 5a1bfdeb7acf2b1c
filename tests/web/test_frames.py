"""The watcher keeps each agent's latest frame as a PGM file: the dashboard's thumbnail."""

from __future__ import annotations

from PIL import Image, ImageDraw

from automation.desktop.watch import thumbnail
from core.agents._frames import frame_path, thumbnail_size
from core.coordinator.jobs import Watcher
from core.models import Agent
from core.service.swarm import SwarmService
from core.watch.settings import WatchSettings


class DrawnFrames:
    """A frame source over drawn windows (what ScreenFrames returns from a real screen)."""

    def __init__(self) -> None:
        self.text = "first"

    def grab(self, agent: Agent) -> bytes | None:
        """The agent's region drawn with the current text, as the watcher's thumbnail."""
        if agent.watch is None:
            return None
        window = Image.new("RGB", agent.watch[2:], "black")
        ImageDraw.Draw(window).text((10, 10), f"{agent.id} {self.text}", fill="white")
        return thumbnail(window)

    def close(self) -> None:
        """Nothing to release."""


async def test_the_watcher_writes_the_latest_frame_only_when_it_changed(
    service: SwarmService,
) -> None:
    frames = DrawnFrames()
    watcher = Watcher(service, WatchSettings(), frames)
    try:
        await watcher.sample()
        path = frame_path(service.settings.home, "Agent-1")
        with Image.open(path) as image:
            assert image.size == thumbnail_size(440, 380) and image.mode == "L"
        first = path.stat().st_ino  # each write replaces the file: a new inode
        await watcher.sample()  # the same picture: not written again
        assert path.stat().st_ino == first
        frames.text = "second, with more text"
        await watcher.sample()
        assert path.stat().st_ino != first
    finally:
        await watcher.close()
