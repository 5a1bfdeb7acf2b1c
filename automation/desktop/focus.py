"""The X keyboard focus: keys go only to the window under the input point.

A click does not always give the keyboard to the window clicked: without a window manager
an xterm never takes it, and Chromium takes it only once it has handled the click (5-30 ms
after the click returned), while the next keystroke follows the click within a millisecond.
So after the click the driver finds the top-level window under the point, waits (bounded)
until the X input focus is inside it, asks for it when the click did not give it
(``_NET_ACTIVE_WINDOW`` with a window manager, ``XSetInputFocus`` without), and checks again
before the paste and before the submit.

An application may also give the keyboard up after the driver got it: Tk without a window
manager takes it for the window the pointer enters while nobody holds it, and hands it to
PointerRoot when the pointer leaves, when it gets to that event. The driver's own click moves
the pointer, so on a first contact that hand-over can land after the driver's request
(``FocusDropped``); the driver then types again from the click.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from automation.desktop import windows
from automation.failures import Failure

log = logging.getLogger(__name__)

ASK_AGAIN_S = 0.05  # ask again this often while the focus has not arrived


class FocusLost(Exception):
    """The keyboard focus is not (or no longer) in the target window."""


class FocusDropped(FocusLost):
    """The focus left the target window for nobody (PointerRoot, None or the root window)."""


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
        return self._inside(self._display.get_input_focus().focus, toplevel)

    def verify(self, toplevel: int) -> None:
        """Before a keystroke: FocusLost unless the focus is inside ``toplevel`` (FocusDropped
        when nobody holds it: an application gave it up, no other window took it)."""
        focus = self._display.get_input_focus().focus
        if self._inside(focus, toplevel):
            return
        if not hasattr(focus, "id") or focus.id == self._root.id:
            log.info("the keyboard went to nobody after it was taken: %s", self.describe(toplevel))
            raise FocusDropped(Failure.FOCUS_NOT_TAKEN)
        log.warning("focus lost after it was taken: %s", self.describe(toplevel))
        raise FocusLost(Failure.FOCUS_NOT_TAKEN)

    def _inside(self, focus: Any, toplevel: int) -> bool:
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

    def ensure(
        self,
        toplevel: int,
        timeout_s: float,
        poll_s: float = 0.001,
        check: Callable[[], None] | None = None,
    ) -> None:
        """Wait until the focus is inside ``toplevel``, asking for it; else FocusLost.

        Asks at once (the click may never give it), and again every ``ASK_AGAIN_S`` in case
        another application took it back meanwhile.
        """
        started = time.monotonic()
        deadline = started + timeout_s
        asked_at: float | None = None
        asks = 0
        while not self.focus_inside(toplevel):
            now = time.monotonic()
            if now >= deadline:
                log.warning(
                    "focus not taken in %.0f ms (%d asks): %s",
                    (now - started) * 1000,
                    asks,
                    self.describe(toplevel),
                )
                raise FocusLost(Failure.FOCUS_NOT_TAKEN)
            if asked_at is None or now - asked_at >= ASK_AGAIN_S:
                self.request(toplevel)
                asked_at = now
                asks += 1
            if check is not None:
                check()
            time.sleep(poll_s)
        log.debug(
            "focus in window 0x%x after %.1f ms (%d asks)",
            toplevel,
            (time.monotonic() - started) * 1000,
            asks,
        )

    def describe(self, toplevel: int) -> str:
        """Who holds the focus and how ``toplevel`` stands (for the log of a failure)."""
        try:
            focus = self._display.get_input_focus().focus
            holder = (
                f"0x{focus.id:x} in top-level {self._describe_window(self._top_of(focus))}"
                if hasattr(focus, "id")
                else {0: "None", 1: "PointerRoot"}.get(focus, "?")
            )
            window_manager = self._has_window_manager()
            target = self._describe_window(toplevel)
        except Exception as exc:  # a window gone meanwhile: say so, never fail the report
            return f"(not described: {type(exc).__name__})"
        return f"focus on {holder}; wanted {target}; window manager: {window_manager}"

    def _top_of(self, window: Any) -> int:
        root_id = self._root.id
        for _ in range(64):
            parent = window.query_tree().parent
            if not parent or parent.id == root_id:
                break
            window = parent
        return int(window.id)

    def _describe_window(self, window_id: int) -> str:
        if window_id == self._root.id:
            return "the root window"
        window = self._display.create_resource_object("window", window_id)
        states = {0: "unmapped", 1: "unviewable", 2: "viewable"}
        state = states.get(window.get_attributes().map_state, "?")
        name = self._display.create_resource_object("window", self._client_of(window_id))
        return f"0x{window_id:x} {name.get_wm_name()!r} {state}"

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

        check = self._root.get_full_property(
            self._atom("_NET_SUPPORTING_WM_CHECK"), X.AnyPropertyType
        )
        return bool(check and check.value)

    def _client_of(self, toplevel: int) -> int:
        """The application's window inside ``toplevel`` (the one with WM_STATE), else itself."""
        return windows.client_of(self._display, toplevel)

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
