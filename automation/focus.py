"""The X keyboard focus: keys go only to the window under the input point.

A click does not always give the keyboard to the window clicked: without a window manager
an xterm never takes it, and Chromium takes it only once it has handled the click (5-30 ms
after the click returned), while the next keystroke follows the click within a millisecond.
So after the click the driver finds the top-level window under the point, waits (bounded)
until the X input focus is inside it, asks for it when the click did not give it
(``_NET_ACTIVE_WINDOW`` with a window manager, ``XSetInputFocus`` without), and checks again
before the paste and before the submit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ASK_AGAIN_S = 0.05  # ask again this often while the focus has not arrived


class FocusLost(Exception):
    """The keyboard focus is not (or no longer) in the target window."""


class XFocus:
    """Focus queries and requests on one python-xlib connection (used from one thread)."""

    def __init__(self, display: Any) -> None:
        self._display = display
        self._root = display.screen().root
        self._atoms: dict[str, int] = {}

    def toplevel_at(self, x: int, y: int) -> int | None:
        """The id of the top-most top-level window holding the point (a frame under a WM)."""
        reply = self._root.translate_coords(self._root, x, y)
        child = reply.child
        return int(child.id) if child else None

    def focus_inside(self, toplevel: int) -> bool:
        """True when the X input focus is ``toplevel`` or one of its descendants."""
        focus = self._display.get_input_focus().focus
        if not hasattr(focus, "id"):  # None or PointerRoot: nobody holds the keyboard
            return False
        window = focus
        root_id = self._root.id
        for _ in range(64):  # window trees are shallow; bound the walk anyway
            if window.id == toplevel:
                return True
            parent = window.query_tree().parent
            if not parent or parent.id == root_id:
                return False
            window = parent
        return False

    def ensure(self, toplevel: int, timeout_s: float, poll_s: float = 0.001,
               check: Callable[[], None] | None = None) -> None:
        """Wait until the focus is inside ``toplevel``, asking for it; else FocusLost.

        Asks at once (the click may never give it), and again every ``ASK_AGAIN_S`` in case
        another application took it back meanwhile.
        """
        deadline = time.monotonic() + timeout_s
        asked_at: float | None = None
        while not self.focus_inside(toplevel):
            now = time.monotonic()
            if now >= deadline:
                raise FocusLost("focus not taken")
            if asked_at is None or now - asked_at >= ASK_AGAIN_S:
                self.request(toplevel)
                asked_at = now
            if check is not None:
                check()
            time.sleep(poll_s)

    def request(self, toplevel: int) -> None:
        """Ask for the keyboard for ``toplevel``: through the window manager when one runs."""
        client = self._client_of(toplevel)
        if self._has_window_manager():
            self._send_active_window(client)
        else:
            target = self._display.create_resource_object("window", client)
            from Xlib import X

            target.set_input_focus(X.RevertToParent, X.CurrentTime)
        self._display.flush()
        log.debug("asked for the keyboard focus for window 0x%x", client)

    def _has_window_manager(self) -> bool:
        from Xlib import X

        check = self._root.get_full_property(self._atom("_NET_SUPPORTING_WM_CHECK"),
                                             X.AnyPropertyType)
        return bool(check and check.value)

    def _client_of(self, toplevel: int) -> int:
        """The application's window inside ``toplevel`` (the one with WM_STATE), else itself."""
        from Xlib import X

        wm_state = self._atom("WM_STATE")
        queue = [self._display.create_resource_object("window", toplevel)]
        for _ in range(256):
            if not queue:
                break
            window = queue.pop(0)
            if window.get_full_property(wm_state, X.AnyPropertyType) is not None:
                return int(window.id)
            queue.extend(window.query_tree().children)
        return toplevel

    def _send_active_window(self, client: int) -> None:
        from Xlib import X
        from Xlib.protocol import event

        window = self._display.create_resource_object("window", client)
        message = event.ClientMessage(
            window=window,
            client_type=self._atom("_NET_ACTIVE_WINDOW"),
            data=(32, [2, X.CurrentTime, 0, 0, 0]),  # source 2: a pager, obeyed at once
        )
        mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
        self._root.send_event(message, event_mask=mask)

    def _atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self._display.intern_atom(name)
        return self._atoms[name]
