"""Which process is a desktop agent's window: after a prompt is delivered
into the window under the agent's input point, that window's process (``_NET_WM_PID``) is
recorded as the agent's root (``core.agents.identity.record_window``), so a hook, ``swarm
send`` or ``swarm approve`` run in that terminal is placed as the agent, whatever name it
gives.

Only a delivery confirmed on screen records it (a window that merely lies under the point,
such as a person's terminal moved over it, is not the agent's). A process that shows other
windows too (a terminal server such as gnome-terminal-server, an editor with several
windows) is forgotten instead: a person's own window of it would be placed as the agent.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from automation.desktop.window_place import Desk
from automation.desktop.windows import WindowFacts
from core.agents import record_window

log = logging.getLogger(__name__)


class AgentWindows:
    """The window each desktop agent's last prompt went into, recorded as its root."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._met: dict[str, WindowFacts] = {}  # agent -> the window under its point
        self._shared: set[str] = set()  # agents whose window's process was said to show others

    def met(self, agent: str, facts: WindowFacts) -> None:
        """The window now under ``agent``'s input point (a delivery is about to go in)."""
        self._met[agent] = facts

    def delivered(self, agent: str, display: Any) -> None:
        """A prompt went into ``agent``'s window: record its process (or forget it when the
        window has none, or its process shows other windows too)."""
        facts = self._met.get(agent)
        if facts is None:
            return
        pid = facts.pid
        if pid is not None and _shows_others(display, facts):
            if agent not in self._shared:
                log.info(
                    "%s: its window's process %d shows other windows too: a process in "
                    "one of them is not placed as %s",
                    agent,
                    pid,
                    agent,
                )
                self._shared.add(agent)
            pid = None
        try:
            record_window(self.home, agent, pid)
        except OSError as exc:
            log.warning("%s: its window's process not recorded: %s", agent, exc)


def _shows_others(display: Any, facts: WindowFacts) -> bool:
    """True when another top-level window belongs to the same process."""
    others = (info for info in Desk(display).windows() if info.window != facts.client)
    return any(info.pid == facts.pid for info in others)
