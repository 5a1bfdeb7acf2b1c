"""Where the demo's agents live: windows on a virtual screen, or inbox folders."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from core.protocols import Deliverer
from core.service import SwarmService


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

    description = "inbox files (no Xvfb here: install it to see real windows)"
    method = "inbox"

    def __init__(self, home: Path) -> None:
        self.inbox = home / "inbox"
        self._seen: set[Path] = set()

    def deliverer(self, service: SwarmService) -> Deliverer:
        """Files under SWARM_HOME/inbox/<agent>/."""
        from automation.inbox import InboxDeliverer

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


@contextlib.asynccontextmanager
async def open_desk(home: Path) -> AsyncIterator[DemoDesk]:
    """The best desk this machine allows."""
    yield InboxDesk(home)
