"""The routes' launchers composed for ``swarm desktop up | status | down``: the desktop's
windows, the tmux route's sessions, the protocol route's hosts (each an
``automation.launch.Launcher``), one :class:`~automation.launch.Fleet` per command. Above the
routes, beside their registry (``automation.routes``): the routes import each other not."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from automation.desktop.screen import NoDisplay, open_x_display
from automation.desktop.session import DesktopSession
from automation.launch import Fleet, Launcher, Planned
from automation.protocol.session import McpFor, ProtocolSession, protocol_cli
from automation.tmux.headless import HeadlessSession
from core.errors import InvalidState


def speaks_protocol(item: Planned) -> bool:
    """Whether ``item``'s CLI speaks a protocol swarm drives (it may run under a host)."""
    return protocol_cli(item) is not None


@contextlib.contextmanager
def display() -> Iterator[Any]:
    """The X display (closed after); InvalidState in one line without one."""
    try:
        found = open_x_display()
    except NoDisplay as exc:
        raise InvalidState(f"no display to open windows on: {exc}") from None
    try:
        yield found
    finally:
        found.close()


def windows(home: Path, config_path: Path, shown_on: Any, agent_swarm: str) -> Launcher:
    """The agents' windows on the display ``shown_on`` (a terminal's shows its session); an
    agent's protocol host ended when it is opened in a window now."""
    shown = DesktopSession(home, config_path, shown_on, agent_swarm=agent_swarm)
    hosts = ProtocolSession(home, config_path, agent_swarm=agent_swarm)
    return Fleet([(lambda _: True, shown), (lambda _: False, hosts)])


def headless(
    home: Path, config_path: Path, hosted: set[str], mcp_for: McpFor, agent_swarm: str
) -> Launcher:
    """The ``hosted`` agents' protocol hosts, the others' tmux sessions; no display."""
    hosts = ProtocolSession(home, config_path, mcp_for=mcp_for, only=hosted,
                            agent_swarm=agent_swarm)  # fmt: skip
    panes = HeadlessSession(home, config_path, agent_swarm=agent_swarm)
    return Fleet([(lambda item: not hosts.takes(item), panes), (hosts.takes, hosts)])


@contextlib.contextmanager
def seen(home: Path, config_path: Path, no_display: bool) -> Iterator[tuple[Launcher, bool]]:
    """Every route's launcher of this home to read or end (the windows when a display can
    be opened and ``no_display`` is false, else the sessions; the hosts), and whether a
    display is open (``status`` and ``down`` need none)."""
    hosts = ProtocolSession(home, config_path)
    try:
        shown_on = None if no_display else open_x_display()
    except NoDisplay:
        shown_on = None
    try:
        if shown_on is None:
            panes: Launcher = HeadlessSession(home, config_path)
        else:
            panes = DesktopSession(home, config_path, shown_on)
        yield Fleet([(lambda _: True, panes), (hosts.takes, hosts)]), shown_on is not None
    finally:
        if shown_on is not None:
            shown_on.close()
