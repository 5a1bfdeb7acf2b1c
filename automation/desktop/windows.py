"""Which application window is under a screen point: its ids, title, class and process.

The driver keys what it remembers about an agent's input (how it looks empty, whether it may
hold an unsent paste) to the window under the input point, so a replaced window (an xterm
that died and was opened again at the same place) starts fresh; ``swarm agents check`` names
the window under each point. All through python-xlib on one connection, used from one thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.formats.text import escape_controls, shorten

SEARCH_LIMIT = 256  # windows looked at below a top-level one for the application's own


@dataclass(frozen=True)
class WindowFacts:
    """A top-level window: its id (a frame under a window manager), the application's window
    inside it, WM_NAME, WM_CLASS and _NET_WM_PID (None when the application does not set
    it: Tk does not)."""

    toplevel: int
    client: int
    title: str
    wm_class: str
    pid: int | None

    @property
    def identity(self) -> str:
        """What tells this window from one that replaced it: the ids and the process."""
        return f"{self.toplevel:#x}/{self.client:#x}/{self.pid if self.pid else '-'}"

    def describe(self) -> str:
        """``window 0x400003 "Agent-3" (XTerm, pid 1234)``, printable on a terminal."""
        title = shorten(escape_controls(self.title), 60)
        what = escape_controls(self.wm_class) or "no class"
        pid = f"pid {self.pid}" if self.pid else "pid unknown"
        return f'window {self.client:#x} "{title}" ({what}, {pid})'


def toplevel_at(display: Any, x: int, y: int) -> int | None:
    """The top-most top-level window holding the point; None over the bare desktop (root)."""
    root = display.screen().root
    child = root.translate_coords(root, x, y).child
    return int(child.id) if child else None


def client_of(display: Any, toplevel: int) -> int:
    """The application's window inside ``toplevel`` (the one with WM_STATE), else itself."""
    from Xlib import X

    wm_state = display.get_atom("WM_STATE")
    queue = [display.create_resource_object("window", toplevel)]
    for _ in range(SEARCH_LIMIT):
        if not queue:
            break
        window = queue.pop(0)
        if window.get_full_property(wm_state, X.AnyPropertyType) is not None:
            return int(window.id)
        queue.extend(window.query_tree().children)
    return toplevel


def facts(display: Any, toplevel: int) -> WindowFacts:
    """What ``toplevel`` is (X errors for a window gone meanwhile are the caller's)."""
    from Xlib import X, Xatom

    client = client_of(display, toplevel)
    window = display.create_resource_object("window", client)
    title = _text(window.get_full_property(display.get_atom("_NET_WM_NAME"), X.AnyPropertyType))
    if not title:
        title = _text(window.get_full_property(Xatom.WM_NAME, X.AnyPropertyType))
    wm_class = window.get_wm_class()
    pid_property = window.get_full_property(display.get_atom("_NET_WM_PID"), Xatom.CARDINAL)
    pid = int(pid_property.value[0]) if pid_property is not None and pid_property.value else None
    return WindowFacts(toplevel, client, title, wm_class[1] if wm_class else "", pid)


def window_at(display: Any, x: int, y: int) -> WindowFacts | None:
    """The window under the point; None over the bare desktop."""
    toplevel = toplevel_at(display, x, y)
    return facts(display, toplevel) if toplevel is not None else None


def _text(prop: Any) -> str:
    if prop is None or not prop.value:
        return ""
    value = prop.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
