"""The text clipboard, with bounded waits.

On X11 this runs ``xsel`` itself (what pyperclip's xsel backend runs), because pyperclip
prefers ``xclip`` when both are installed (its background process inherits stdout and hangs
captured runs) and waits on the helper without a timeout. Elsewhere it uses pyperclip.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from automation.screen import IS_X11

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

    def read(self, primary: bool = False) -> str | None:
        """The clipboard (or PRIMARY selection) text; None when it cannot be read."""
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

    def put(self, text: str, timeout_s: float, poll_s: float = 0.002,
            primary: bool = False) -> bool:
        """Write ``text`` and wait until the clipboard holds exactly it; False at the timeout.

        With ``primary`` the PRIMARY selection gets it too (Shift+Insert, middle click).
        """
        targets = [False, True] if primary and self._xsel is not None else [False]
        for target in targets:
            self.write(text, target)
        deadline = time.monotonic() + timeout_s
        for target in targets:
            while self.read(target) != text:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(poll_s)
        return True

    def save(self, with_primary: bool) -> SavedSelections:
        """What to give back after a delivery (PRIMARY only when the delivery takes it)."""
        primary = self.read(primary=True) if with_primary else None
        return SavedSelections(self.read(), primary, with_primary)

    def restore(self, saved: SavedSelections, timeout_s: float) -> bool:
        """Put the saved texts back; False when one could not be checked."""
        ok = True
        if saved.clipboard is not None:
            ok = self.put(saved.clipboard, timeout_s)
        if saved.took_primary and saved.primary is not None and self._xsel is not None:
            self.write(saved.primary, primary=True)
            deadline = time.monotonic() + timeout_s
            while self.read(primary=True) != saved.primary:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.002)
        return ok

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
