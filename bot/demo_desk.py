"""Where the demo's agents live: windows on a virtual screen, or inbox folders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from core.protocols import Deliverer
from core.service.swarm import SwarmService

log = logging.getLogger(__name__)


class DemoDesk(Protocol):
    """The demo agents' side: how prompts reach them and what they received."""

    description: str
    method: str

    def deliverer(self, service: SwarmService) -> Deliverer:
        """The deliverer that reaches these agents."""
        ...

    def received(self) -> list[tuple[str, str]]:
        """(agent id, text) of everything received since the last call."""
        ...

    def screenshot(self, path: Path) -> Path | None:
        """Save a picture of the agents, if there is a screen."""
        ...


class InboxDesk:
    """Agents that read one file per message from their inbox folder."""

    method = "inbox"

    def __init__(
        self,
        home: Path,
        description: str = "inbox files (no Xvfb here: install it to see real windows)",
    ) -> None:
        self.description = description
        self.inbox = home / "inbox"
        self._seen: set[Path] = set()

    def deliverer(self, service: SwarmService) -> Deliverer:
        """Files under SWARM_HOME/inbox/<agent>/."""
        from automation.inbox.files import InboxDeliverer

        return InboxDeliverer(self.inbox)

    def received(self) -> list[tuple[str, str]]:
        """New inbox files, oldest first."""
        found = []
        for path in sorted(self.inbox.glob("*/*")):
            if path in self._seen or path.name.startswith("."):
                continue
            self._seen.add(path)
            found.append((path.parent.name, path.read_text(encoding="utf-8")))
        return found

    def screenshot(self, path: Path) -> Path | None:
        """No screen, no picture."""
        return None


class ScreenDesk:
    """Eight real windows on a private virtual screen, typed into by the desktop driver."""

    method = "desktop driver"

    def __init__(self, home: Path, server: Any, windows: Any) -> None:
        self.home = home
        self.server = server
        self.windows = windows
        self.description = (
            f"eight windows on a virtual screen (Xvfb {server.display}), "
            "prompts pasted into each window's chat input"
        )
        self._seen = [0] * 8
        self._driver: Any = None

    def deliverer(self, service: SwarmService) -> Deliverer:
        """The real desktop driver (PyAutoGUI) for the bundled 4x2 layout."""
        from automation.routes import build_deliverer

        self._driver = build_deliverer(
            service.settings, list(service.agents.values()), service.kill_switch
        )
        return self._driver

    def received(self) -> list[tuple[str, str]]:
        """What each window's chat input submitted since the last call."""
        found = []
        for index in range(8):
            texts = self.windows.texts(index)
            found += [(f"Agent-{index + 1}", text) for text in texts[self._seen[index] :]]
            self._seen[index] = len(texts)
        return found

    def screenshot(self, path: Path) -> Path | None:
        """The whole virtual screen as a PNG."""
        from automation.desktop.screen import Grabber, Rect

        grabber = Grabber(self.server.display)
        try:
            grabber.grab(Rect(0, 0, 1920, 1080)).save(path)
        finally:
            grabber.close()
        return path

    def close(self) -> None:
        """Stop the driver's worker (blocking)."""
        if self._driver is not None:
            self._driver.close()


@contextlib.asynccontextmanager
async def open_desk(home: Path, inbox: bool = False) -> AsyncIterator[DemoDesk]:
    """Windows on a virtual screen when Xvfb is installed (and not ``inbox``), else inbox files."""
    from automation.desktop import virtual_desktop as vd

    if inbox:
        yield InboxDesk(home, "inbox files (--inbox)")
        return
    if vd.xvfb_path() is None:
        yield InboxDesk(home)
        return
    try:
        server = await asyncio.to_thread(vd.start_xvfb, home / "xvfb")
    except Exception as exc:  # no usable virtual screen: say so and use the inbox
        log.warning("could not start Xvfb (%s): using inbox files", exc)
        yield InboxDesk(home)
        return
    try:
        windows = await asyncio.to_thread(vd.open_windows, server, home / "windows")
        desk = ScreenDesk(home, server, windows)
        with vd.display_env(server):
            try:
                yield desk
            finally:
                await asyncio.to_thread(desk.close)
                windows.stop()
    finally:
        vd.kill_display_clients(server.display, "xsel")
        server.stop()
