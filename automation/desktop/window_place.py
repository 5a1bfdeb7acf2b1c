"""Top-level windows through python-xlib: find them, mark them, place them, close them.

Works with a window manager (clients reparented into frames; placed with the EWMH
``_NET_MOVERESIZE_WINDOW`` request so that the frame stays inside the cell) and without one
(the window moved and resized directly).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from automation.desktop.screen import Rect

log = logging.getLogger(__name__)

MARK = "_SWARM_AGENT"  # the agent id, set on every window ``swarm desktop up`` opened
MARK_HOME = "_SWARM_HOME"  # the SWARM_HOME that opened it (two swarms may share a desktop)
MARK_PID = "_SWARM_PID"  # the process swarm started for it
STATIC_GRAVITY = 10
MOVE_RESIZE_FLAGS = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (2 << 12)  # x y w h, pager


@dataclass(frozen=True)
class WindowInfo:
    """A top-level client window and what swarm knows of it."""

    window: int
    title: str
    wm_class: tuple[str, ...]
    pid: int | None
    agent: str | None  # the MARK property
    home: str | None
    swarm_pid: int | None


class Desk:
    """One X connection's view of the top-level windows."""

    def __init__(self, display: Any) -> None:
        self.display = display
        self.root = display.screen().root
        self._atoms: dict[str, int] = {}

    def atom(self, name: str) -> int:
        """The atom called ``name`` (created when missing)."""
        if name not in self._atoms:
            self._atoms[name] = self.display.intern_atom(name)
        return self._atoms[name]

    def has_window_manager(self) -> bool:
        """True when an EWMH window manager runs (``_NET_SUPPORTING_WM_CHECK`` on the root)."""
        return self._cardinal(self.root, "_NET_SUPPORTING_WM_CHECK") is not None

    def clients(self) -> Iterator[int]:
        """Every mapped top-level client window, bottom to top (the manager's list when one
        runs, else the root's children)."""
        from Xlib import X, Xatom
        from Xlib.error import XError

        if self.has_window_manager():
            prop = self.root.get_full_property(self.atom("_NET_CLIENT_LIST_STACKING"), Xatom.WINDOW)
            yield from (int(v) for v in (prop.value if prop is not None else ()))
            return
        for child in self.root.query_tree().children:
            try:
                if child.get_attributes().map_state != X.IsViewable:
                    continue
                if child.get_wm_class() is not None or child.get_wm_name():
                    yield child.id
            except XError:  # closed meanwhile
                continue

    def info(self, window: int) -> WindowInfo | None:
        """What is known of ``window``; None when it is gone."""
        from Xlib.error import XError

        win = self.display.create_resource_object("window", window)
        try:
            wm_class = win.get_wm_class() or ()
            return WindowInfo(
                window,
                self.title(window),
                tuple(wm_class),
                self._cardinal(win, "_NET_WM_PID"),
                self.text(window, MARK),
                self.text(window, MARK_HOME),
                self._cardinal(win, MARK_PID),
            )
        except XError:
            return None

    def windows(self) -> list[WindowInfo]:
        """Every client window's info."""
        found = (self.info(window) for window in self.clients())
        return [info for info in found if info is not None]

    def title(self, window: int) -> str:
        """``_NET_WM_NAME`` (UTF-8), else ``WM_NAME``."""
        win = self.display.create_resource_object("window", window)
        utf8 = win.get_full_property(self.atom("_NET_WM_NAME"), self.atom("UTF8_STRING"))
        if utf8 is not None:
            value = utf8.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        name = win.get_wm_name()
        return name.decode("latin-1") if isinstance(name, bytes) else (name or "")

    def text(self, window: int, name: str) -> str | None:
        """A STRING property's value (UTF-8), or None."""
        from Xlib import Xatom

        win = self.display.create_resource_object("window", window)
        prop = win.get_full_property(self.atom(name), Xatom.STRING)
        if prop is None:
            return None
        value = prop.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def mark(self, window: int, agent: str, home: str, pid: int) -> None:
        """Set swarm's properties on ``window``: whose agent it is, which home, which pid."""
        from Xlib import X, Xatom

        win = self.display.create_resource_object("window", window)
        win.change_property(self.atom(MARK), Xatom.STRING, 8, agent.encode(), X.PropModeReplace)
        win.change_property(self.atom(MARK_HOME), Xatom.STRING, 8, home.encode())
        win.change_property(self.atom(MARK_PID), Xatom.CARDINAL, 32, [pid])
        self.display.sync()

    def box(self, window: int) -> Rect:
        """The window's own area (frame excluded) in root coordinates."""
        win = self.display.create_resource_object("window", window)
        geometry = win.get_geometry()
        origin = win.translate_coords(self.root, 0, 0)
        return Rect(-origin.x, -origin.y, geometry.width, geometry.height)

    def frame_extents(self, window: int) -> tuple[int, int, int, int]:
        """(left, right, top, bottom) of the manager's frame; zeros without one."""
        from Xlib import Xatom

        win = self.display.create_resource_object("window", window)
        prop = win.get_full_property(self.atom("_NET_FRAME_EXTENTS"), Xatom.CARDINAL)
        if prop is None or len(prop.value) != 4:
            return 0, 0, 0, 0
        left, right, top, bottom = (int(v) for v in prop.value)
        return left, right, top, bottom

    def place(self, window: int, cell: Rect) -> None:
        """Move and resize ``window`` so that it (with its frame) fills ``cell``; raise it."""
        from Xlib import X
        from Xlib.protocol import event

        win = self.display.create_resource_object("window", window)
        if not self.has_window_manager():
            border = win.get_geometry().border_width  # drawn outside the window's area
            win.configure(
                x=cell.left,
                y=cell.top,
                width=cell.width - 2 * border,
                height=cell.height - 2 * border,
                stack_mode=X.Above,
            )
            self.display.sync()
            return
        left, right, top, bottom = self.frame_extents(window)
        data = [
            STATIC_GRAVITY | MOVE_RESIZE_FLAGS,
            cell.left + left,
            cell.top + top,
            cell.width - left - right,
            cell.height - top - bottom,
        ]
        message = event.ClientMessage(
            window=win, client_type=self.atom("_NET_MOVERESIZE_WINDOW"), data=(32, data)
        )
        mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
        self.root.send_event(message, event_mask=mask)
        active = event.ClientMessage(
            window=win,
            client_type=self.atom("_NET_ACTIVE_WINDOW"),
            data=(32, [2, X.CurrentTime, 0, 0, 0]),
        )
        self.root.send_event(active, event_mask=mask)
        self.display.sync()

    def wait_placed(self, window: int, cell: Rect, timeout: float = 5.0) -> Rect:
        """The window's area once it lies inside ``cell`` (or whatever it is at the timeout)."""
        deadline = time.monotonic() + timeout
        box = self.box(window)
        while not cell.encloses(box) and time.monotonic() < deadline:
            time.sleep(0.02)
            box = self.box(window)
        return box

    def close(self, window: int) -> None:
        """Ask the window to close (``WM_DELETE_WINDOW``), as its close button would."""
        from Xlib import X
        from Xlib.protocol import event

        win = self.display.create_resource_object("window", window)
        data = [self.atom("WM_DELETE_WINDOW"), X.CurrentTime, 0, 0, 0]
        message = event.ClientMessage(
            window=win, client_type=self.atom("WM_PROTOCOLS"), data=(32, data)
        )
        win.send_event(message)
        self.display.sync()

    def _cardinal(self, win: Any, name: str) -> int | None:
        """A CARDINAL or WINDOW property's first value."""
        from Xlib import X

        prop = win.get_full_property(self.atom(name), X.AnyPropertyType)
        if prop is None or prop.format != 32 or not len(prop.value):
            return None
        return int(prop.value[0])

    def window_at(self, x: int, y: int) -> int | None:
        """The topmost client window under the point (x, y), or None."""
        found = None
        for window in self.clients():
            if self.box(window).contains(x, y):
                found = window  # bottom to top: the last one is on top
        return found
