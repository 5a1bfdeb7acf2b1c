"""The text clipboard, with bounded waits.

On X11 the selections are served and read in-process (``automation/desktop/selection.py``), with
``xsel`` for what that cannot do (texts sent in pieces, keeping the clipboard alive after
the process ends); ``xsel`` is run directly rather than through pyperclip, which prefers
``xclip`` when both are installed (its background process inherits stdout and hangs captured
runs) and waits on the helper without a timeout. Elsewhere it uses pyperclip.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from automation.desktop.screen import IS_X11, NoDisplay
from automation.desktop.selection import SelectionError, XSelections

log = logging.getLogger(__name__)


class ClipboardError(Exception):
    """The clipboard cannot be read or written."""


@dataclass(frozen=True)
class SavedSelections:
    """The user's clipboard text and, when it was taken too, the PRIMARY selection."""

    clipboard: str | None
    primary: str | None = None
    took_primary: bool = False


class Clipboard:
    """Read and write the clipboard text; every call is bounded by ``timeout_s``.

    ``display_name`` picks the X display (default: ``$DISPLAY``).
    """

    def __init__(self, timeout_s: float = 2.0, display_name: str | None = None) -> None:
        self.timeout_s = timeout_s
        self._env = {**os.environ, "DISPLAY": display_name} if display_name else None
        self._xsel = shutil.which("xsel") if IS_X11 else None
        if IS_X11 and self._xsel is None:
            raise ClipboardError("xsel is not installed (apt-get install xsel)")
        self._x: XSelections | None = None
        self._served_here = False  # the text last written is served by this process
        if IS_X11:
            try:
                self._x = XSelections(display_name, timeout_s)
            except (NoDisplay, OSError) as exc:
                log.warning("serving the clipboard through xsel only: %s", exc)

    def close(self) -> None:
        """Hand what this process still serves to xsel, so it outlives the process."""
        if self._x is None:
            return
        owned = self._x.close()
        self._x = None
        for selection, text in owned.items():
            primary = selection == "PRIMARY"
            try:
                kept = self.put(text, self.timeout_s, primary=primary, only_primary=primary)
            except ClipboardError:
                kept = False
            if not kept:
                log.warning("could not keep the %s text after closing", selection)

    def read(self, primary: bool = False) -> str | None:
        """The clipboard (or PRIMARY selection) text; None when it cannot be read."""
        if self._x is not None:
            try:
                return self._x.read(_name(primary))
            except SelectionError:
                pass  # in pieces, or slow: xsel knows how
        if self._xsel is None:
            if primary:
                return None
            import pyperclip

            try:
                return pyperclip.paste()
            except pyperclip.PyperclipException:
                return None
        selection_ms = str(max(1, int(self.timeout_s * 500)))
        done = self._run([_which(primary), "--output", "--selectionTimeout", selection_ms])
        if done is None or done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", errors="replace")

    def write(self, text: str, primary: bool = False) -> None:
        """Start putting ``text`` on the clipboard (see ``put`` for a checked write)."""
        self._served_here = False
        if self._x is not None:
            try:
                if self._x.own(_name(primary), text):
                    self._served_here = True
                    return
            except SelectionError:
                pass
        if self._xsel is None:
            if primary:
                return  # no PRIMARY selection outside X11
            import pyperclip

            pyperclip.copy(text)
            return
        args = [_which(primary), "--clear" if text == "" else "--input"]
        done = self._run(args, text.encode("utf-8"))
        if done is None or done.returncode != 0:
            raise ClipboardError("xsel could not set the clipboard")

    def put(
        self,
        text: str,
        timeout_s: float,
        poll_s: float = 0.002,
        primary: bool = False,
        only_primary: bool = False,
    ) -> bool:
        """Write ``text`` and wait until the clipboard holds exactly it; False at the timeout.

        With ``primary`` the PRIMARY selection gets it too (Shift+Insert, middle click);
        with ``only_primary`` only PRIMARY does.
        """
        targets = [False, True] if primary and self._xsel is not None else [False]
        if only_primary:
            targets = [True]
        for target in targets:
            self.write(text, target)
        deadline = time.monotonic() + timeout_s
        for target in targets:
            while self.read(target) != text:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(poll_s)
        return True

    def texts_served(self) -> int | None:
        """How many times applications were given this process's selection texts so far;
        None when the text last written is not served here (``xsel`` holds it, or not X11)."""
        if self._x is None or not self._served_here:
            return None
        return self._x.texts_served

    def save(self, with_primary: bool) -> SavedSelections:
        """What to give back after a delivery (PRIMARY only when the delivery takes it)."""
        primary = self.read(primary=True) if with_primary else None
        return SavedSelections(self.read(), primary, with_primary)

    def restore(self, saved: SavedSelections, timeout_s: float) -> bool:
        """Put the saved texts back (an empty one stays empty); False when one failed."""
        ok = self._give_back(saved.clipboard, False, timeout_s)
        if saved.took_primary and self._xsel is not None:
            ok = self._give_back(saved.primary, True, timeout_s) and ok
        return ok

    def _give_back(self, text: str | None, primary: bool, timeout_s: float) -> bool:
        if text is not None:
            return self.put(text, timeout_s, primary=primary, only_primary=primary)
        if self._x is not None:
            try:
                self._x.release(_name(primary))  # it was empty: leave it empty
            except SelectionError:
                return False
        return True

    def _run(
        self, args: list[str], data: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes] | None:
        assert self._xsel is not None
        try:
            return subprocess.run(
                [self._xsel, *args],
                input=data,
                stdin=None if data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if data is None else subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=self.timeout_s,
                check=False,
                env=self._env,
            )
        except subprocess.TimeoutExpired:
            log.warning("xsel %s did not finish within %.1f s", " ".join(args), self.timeout_s)
            return None


def _which(primary: bool) -> str:
    return "--primary" if primary else "--clipboard"


def _name(primary: bool) -> str:
    return "PRIMARY" if primary else "CLIPBOARD"
