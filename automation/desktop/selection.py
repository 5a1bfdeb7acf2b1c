"""The X selections (CLIPBOARD, PRIMARY) owned and read in-process.

Starting ``xsel`` costs about 4 ms a time and a delivery needs several (save the user's
clipboard, put the prompt, check it, give the clipboard back, the same again for PRIMARY in
terminals), so on X11 the driver serves the selections itself: one thread with its own
python-xlib connection and an invisible window answers the applications' requests
(``TARGETS``, ``UTF8_STRING``, ``STRING``, ``TEXT``) and reads other owners' text.

It counts the texts it serves (``texts_served``): the driver reads there whether the
application asked for the pasted text at all (a change of the input before it did is not
the paste).

What the process still owns when it closes is handed to ``xsel``, whose background process
keeps it, so the user's clipboard outlives the coordinator. Texts too large for one X request
and selections that answer with ``INCR`` are left to ``xsel`` by the caller (None / False).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from automation.desktop.screen import open_x_display

log = logging.getLogger(__name__)

MAX_SERVED_BYTES = 200_000  # one ChangeProperty request, well under the 256 KiB limit
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain")
INCR: Any = object()  # a read answered with INCR (the text comes in pieces)


class SelectionError(Exception):
    """The selection thread is not running or did not answer in time."""


class XSelections:
    """Own and read CLIPBOARD / PRIMARY from one thread; calls from any thread are safe."""

    def __init__(self, display_name: str | None, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self._display = open_x_display(display_name)
        self._atoms: dict[str, int] = {}
        from Xlib import X

        root = self._display.screen().root
        self._window = root.create_window(
            -10,
            -10,
            1,
            1,
            0,
            X.CopyFromParent,
            X.InputOnly,
            X.CopyFromParent,
            event_mask=X.PropertyChangeMask,
        )
        self._owned: dict[str, bytes] = {}  # selection -> UTF-8 text we serve
        self._names: dict[int, str] = {}  # atom -> name (asked once: a round trip each)
        self.texts_served = 0  # requests for an owned selection's text answered so far
        self._reads: dict[int, Callable[[Any], None]] = {}  # property atom -> waiter
        self._commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._running = True
        self._thread = threading.Thread(target=self._serve, name="swarm-selection", daemon=True)
        self._thread.start()

    def own(self, selection: str, text: str) -> bool:
        """Serve ``text`` as ``selection``; False when the X server did not make us owner."""
        data = text.encode("utf-8")
        if len(data) > MAX_SERVED_BYTES:
            return False
        return bool(self._call(lambda: self._take(selection, data)))

    def release(self, selection: str) -> None:
        """Stop owning ``selection`` (it is then empty, as it was before we took it)."""
        self._call(lambda: self._give_up(selection))

    def owns(self, selection: str) -> bool:
        """True while this process serves ``selection``."""
        return bool(self._call(lambda: self._owner_is_us(selection)))

    def read(self, selection: str) -> str | None:
        """The selection's text; None when it is empty or not text.

        Raises SelectionError when the owner does not answer in time or sends the text in
        pieces (INCR, very large texts): the caller then asks ``xsel``.
        """
        done = threading.Event()
        result: list[Any] = [None]

        def finish(value: Any) -> None:
            result[0] = value
            done.set()

        self._call(lambda: self._start_read(selection, finish))
        if not done.wait(self.timeout_s):
            self._call(lambda: self._reads.pop(self._atom("SWARM_" + selection), None))
            raise SelectionError(f"the owner of {selection} did not answer")
        if result[0] is INCR:
            raise SelectionError(f"{selection} is sent in pieces (INCR)")
        return result[0]

    def close(self) -> dict[str, str]:
        """Stop the thread; the texts still owned (for the caller to hand to xsel)."""
        if not self._running:
            return {}
        owned = self._call(
            lambda: {s: d.decode("utf-8") for s, d in self._owned.items() if self._owner_is_us(s)}
        )
        self._running = False
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2.0)
        with contextlib.suppress(Exception):
            self._display.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        return owned or {}

    # -- in the selection thread ------------------------------------------------------------

    def _call(self, work: Callable[[], Any]) -> Any:
        if not self._running or not self._thread.is_alive():
            raise SelectionError("the selection thread is not running")
        if threading.current_thread() is self._thread:
            return work()
        done = threading.Event()
        box: list[Any] = [None, None]

        def run() -> None:
            try:
                box[0] = work()
            except Exception as exc:  # handed back to the caller
                box[1] = exc
            done.set()

        self._commands.put(run)
        os.write(self._wake_w, b"x")
        if not done.wait(self.timeout_s):
            raise SelectionError("the selection thread did not answer")
        if box[1] is not None:
            raise SelectionError(str(box[1]))
        return box[0]

    def _serve(self) -> None:
        fd = self._display.fileno()
        while self._running:
            try:
                self._pump()
                select.select([fd, self._wake_r], [], [], 1.0)
            except Exception:
                if self._running:
                    log.exception("selection thread: error")
                    time.sleep(0.1)  # never spin on a broken connection

    def _pump(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_r, 4096)
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            command()
        while True:  # flushing may read events into python-xlib's queue: drain it again
            while self._display.pending_events():
                self._handle(self._display.next_event())
            self._display.flush()
            if not self._display.pending_events():
                break

    def _handle(self, event: Any) -> None:
        from Xlib import X

        if event.type == X.SelectionRequest:
            self._answer(event)
        elif event.type == X.SelectionClear:
            name = self._atom_name(event.atom)
            self._owned.pop(name, None)
        elif event.type == X.SelectionNotify:
            waiter = self._reads.pop(event.property, None) if event.property else None
            if waiter is None and not event.property:
                waiter = self._reads.pop(
                    self._atom("SWARM_" + self._atom_name(event.selection)), None
                )
            if waiter is not None:
                waiter(event)

    def _take(self, selection: str, data: bytes) -> bool:
        from Xlib import X

        self._owned[selection] = data
        self._window.set_selection_owner(self._atom(selection), X.CurrentTime)
        return self._owner_is_us(selection)

    def _give_up(self, selection: str) -> None:
        from Xlib import X

        if self._owner_is_us(selection):
            from Xlib.protocol import request

            request.SetSelectionOwner(
                display=self._display.display,
                window=X.NONE,
                selection=self._atom(selection),
                time=X.CurrentTime,
            )
        self._owned.pop(selection, None)

    def _owner_is_us(self, selection: str) -> bool:
        owner = self._display.get_selection_owner(self._atom(selection))
        return bool(owner) and owner.id == self._window.id and selection in self._owned

    def _start_read(self, selection: str, finish: Callable[[Any], None]) -> None:
        if self._owner_is_us(selection):
            finish(self._owned[selection].decode("utf-8"))
            return
        owner = self._display.get_selection_owner(self._atom(selection))
        if not owner:
            finish(None)
            return
        self._convert(selection, ["UTF8_STRING", "STRING"], finish)

    def _convert(self, selection: str, targets: list[str], finish: Callable[[Any], None]) -> None:
        """Ask the owner for the first target; when it refuses, for the next one."""
        from Xlib import X

        prop = self._atom("SWARM_" + selection)

        def arrived(event: Any) -> None:
            if event.property:
                try:
                    finish(self._take_property(event.property))
                except Exception:
                    log.exception("reading %s failed", selection)
                    finish(None)
            elif len(targets) > 1:
                self._convert(selection, targets[1:], finish)
            else:
                finish(None)

        self._reads[prop] = arrived
        self._window.convert_selection(
            self._atom(selection), self._atom(targets[0]), prop, X.CurrentTime
        )

    def _take_property(self, prop: int) -> Any:
        from Xlib import X

        reply = self._window.get_full_property(prop, X.AnyPropertyType)
        self._window.delete_property(prop)
        if reply is None:
            return None
        if reply.property_type == self._atom("INCR"):
            return INCR
        value = reply.value
        if isinstance(value, str):  # python-xlib decodes some 8-bit data itself
            try:
                data = value.encode("latin-1")  # ...as latin-1: undo it
            except UnicodeEncodeError:
                return value  # ...as UTF-8 already
        else:
            data = value if isinstance(value, bytes) else bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")  # a STRING in its ICCCM encoding

    def _answer(self, request: Any) -> None:
        from Xlib import X, Xatom
        from Xlib.protocol import event

        selection = self._atom_name(request.selection)
        target = self._atom_name(request.target)
        prop = request.property or request.target  # obsolete clients name no property
        data = self._owned.get(selection)
        answered = X.NONE
        if data is not None:
            if target == "TARGETS":
                atoms = [self._atom(name) for name in ("TARGETS", *TEXT_TARGETS)]
                request.requestor.change_property(prop, Xatom.ATOM, 32, atoms)
                answered = prop
            elif target in TEXT_TARGETS:  # UTF-8 for STRING too, as xsel serves it
                request.requestor.change_property(prop, request.target, 8, data)
                answered = prop
        if answered != X.NONE and target in TEXT_TARGETS:  # counted before the app is told
            self.texts_served += 1  # only the selection thread writes it
        notify = event.SelectionNotify(
            time=request.time,
            requestor=request.requestor,
            selection=request.selection,
            target=request.target,
            property=answered,
        )
        request.requestor.send_event(notify, event_mask=0)

    def _atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self._display.intern_atom(name)
        return self._atoms[name]

    def _atom_name(self, atom: int) -> str:
        if atom not in self._names:
            self._names[atom] = self._display.get_atom_name(atom)
        return self._names[atom]
