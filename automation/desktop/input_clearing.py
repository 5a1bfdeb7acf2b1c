"""Emptying an agent's input before a paste, and knowing when it is empty.

Per agent it remembers how the empty input looks (after a clear, and after a submit) and
whether text may be left in it by an attempt that did not end with a seen submit ("dirty"):
such an input must look empty again before anything more is pasted ("input not empty").
The dirty marks are files (``$SWARM_HOME/input.unsent/<agent>``), so a driver started after
one was killed between its paste and its submit knows that the text left there is its own
prompt and clears it all, not just the few passes that spare a person's draft.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from automation.desktop.gui_options import GuiOptions
from automation.desktop.screen import Rect
from automation.desktop.screen_waits import Abort, ScreenWaits, changed, crop
from automation.failures import Failure

OWN_PASTE_PASSES = 25  # times clear_passes, for an input known to hold our own unsent paste
SEEN = "seen"  # a mark's second line: its paste was seen landing


class UnsentPastes:
    """The agents whose input may hold a paste not followed by a seen submit: files in
    ``folder`` (shared by the processes of one home, kept across a kill), else in memory.
    A mark also says whether its paste was seen landing: one that was not may still land
    (a slow window), and its time is the mark's (the file's change time)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._agents: dict[str, tuple[str, float | None]] = {}  # window, pasted at (unseen)

    def add(self, agent_id: str, window: str = "") -> None:
        """Mark ``agent_id`` (before its paste), with the identity of the window pasted into
        (``windows.WindowFacts.identity``; empty when not known)."""
        if self._folder is None:
            self._agents[agent_id] = (window, time.time())
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        (self._folder / agent_id).write_text(window, encoding="utf-8")

    def seen(self, agent_id: str) -> None:
        """The marked paste was seen in the input: nothing of it is still on its way."""
        if self._folder is None:
            if agent_id in self._agents:
                self._agents[agent_id] = (self._agents[agent_id][0], None)
            return
        with contextlib.suppress(OSError):  # (a mark gone meanwhile is not made again)
            fd = os.open(self._folder / agent_id, os.O_WRONLY | os.O_APPEND)
            with os.fdopen(fd, "w", encoding="utf-8") as mark:
                mark.write(f"\n{SEEN}")

    def discard(self, agent_id: str) -> None:
        """Unmark ``agent_id`` (its submit was seen, its input was reset, or its window was
        replaced)."""
        if self._folder is None:
            self._agents.pop(agent_id, None)
        else:
            (self._folder / agent_id).unlink(missing_ok=True)

    def window_of(self, agent_id: str) -> str | None:
        """The window the marked paste went to ("" when not known); None when not marked."""
        if self._folder is None:
            return self._agents[agent_id][0] if agent_id in self._agents else None
        try:
            text = (self._folder / agent_id).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return "" if agent_id in self else None
        return text.split("\n", 1)[0].strip()

    def unseen_since(self, agent_id: str) -> float | None:
        """When the marked paste was pressed (``time.time()``), if it was never seen landing;
        None when not marked or seen."""
        if self._folder is None:
            return self._agents.get(agent_id, ("", None))[1]
        path = self._folder / agent_id
        try:
            if SEEN in path.read_text(encoding="utf-8").split("\n")[1:]:
                return None
            return path.stat().st_mtime
        except (OSError, UnicodeDecodeError):
            return None

    def __contains__(self, agent_id: object) -> bool:
        if self._folder is None:
            return agent_id in self._agents
        return isinstance(agent_id, str) and (self._folder / agent_id).exists()


class InputClearer:
    """Clears inputs with an agent's clear keys and checks on screen that they emptied."""

    def __init__(
        self,
        grab: Callable[[Rect], Image.Image],
        waits: ScreenWaits,
        options: Callable[[], GuiOptions],
        unsent: Path | None = None,
    ) -> None:
        self._grab = grab
        self._waits = waits
        self._get_options = options
        self.empty_look: dict[str, Image.Image] = {}  # agent -> its input, focused and empty
        self.dirty = UnsentPastes(unsent)  # agents whose input may hold an unsent paste
        self.windows: dict[str, str] = {}  # agent -> the window under its point, last seen

    def meet(self, agent_id: str, window: str) -> str | None:
        """Note the window now under ``agent_id``'s input point (its identity). When it is
        not the window last seen there (by this driver, or by the one that left an unsent
        mark), that window was replaced: forget how its input looked empty and the mark,
        and return the old identity ("" when the mark did not say); else None."""
        before = self.windows.get(agent_id)
        if before is None:
            before = self.dirty.window_of(agent_id) or None  # a mark of another process
        self.windows[agent_id] = window
        if before is None or before == window:
            return None
        self.empty_look.pop(agent_id, None)
        self.dirty.discard(agent_id)
        return before

    @property
    def _options(self) -> GuiOptions:
        return self._get_options()

    def clear(
        self,
        agent_id: str,
        box: Rect,
        point: tuple[int, int],
        press: Callable[[], None],
        check_focus: Callable[[], None],
        terminal: bool = False,
    ) -> Image.Image:
        """Empty the input and return how it looks empty; ``input not empty`` when it cannot.

        One clear pass; done when the input line looks as it did when last seen empty, or when
        the pass changed nothing (no change shows within the settle time). When it changed
        something, even late, pass again until a pass changes nothing: an input that keeps
        changing (a Ctrl+A that only moves to the line start, then Delete) is not empty. A
        pass ends when the input has rested ``clear_settle_s``; one that brings it back to a
        look it had in this clear changed nothing: on a busy machine the application may
        draw between the keys (Tk's select-all of an empty input, taken away by Delete). An
        input that may hold an earlier attempt's paste, on which the clear keys changed
        nothing, must look as it did when it was empty. ``terminal``: the application redraws
        its input after its program handled the keys, a long input tens of ms late, so a
        change after the pass is its effect (not a late focus ring), and an input this
        process never saw empty (a first delivery, or a restart after a kill that may have
        left a paste) gets ``first_clear_settle_s`` to show it.
        """
        opts = self._options
        start = self._grab(box)
        press()
        image = self._waits.quiet(box, start, opts.quiet_s)
        known = self.empty_look.get(agent_id)
        late = terminal and known is None
        settle = opts.first_clear_settle_s if late else opts.clear_settle_s
        band = self._input_band(box, point)
        if known is not None and not changed(crop(known, band), crop(image, band), opts.thin_px):
            return image
        moved = changed(start, image, opts.thin_px)
        ours = agent_id in self.dirty  # our own paste may be there, even a killed driver's
        dirty = ours and known is not None
        if not moved and not dirty:  # nothing there to clear: empty, once the focus is drawn
            later = self._waits.change(box, image, settle)  # a late focus ring
            if later is not None:
                image = self._waits.quiet(box, later, opts.quiet_s)
            if later is None or not terminal:
                self.empty_look[agent_id] = image
                return image
            moved = True  # a terminal's pass shown late: pass again until one changes nothing
        looks = [start, image]  # how the input looked at rest during this clear
        for _ in range(opts.clear_passes * (OWN_PASTE_PASSES if ours else 1)):
            check_focus()
            press()
            after = self._waits.change(box, image, settle)
            if after is None:
                break
            image = self._waits.quiet(box, after, opts.clear_settle_s)
            if any(not changed(look, image, opts.thin_px) for look in looks):
                break  # back to a look it had: only the keys' passing showed (see above)
            looks.append(image)
        else:
            raise Abort(Failure.INPUT_NOT_EMPTY)
        moved = moved and changed(start, image, opts.thin_px)
        if dirty and not moved and known is not None and changed(known, image, opts.thin_px):
            raise Abort(Failure.INPUT_NOT_EMPTY)
        self.empty_look[agent_id] = image
        return image

    def restore(
        self,
        box: Rect,
        before: Image.Image,
        press: Callable[[], None],
        check_focus: Callable[[], None],
    ) -> bool:
        """Remove a paste of ours that landed in another agent's input (it looked like
        ``before`` until then): clear passes until it looks like ``before`` again, or a pass
        changes nothing. True when it looks as it did."""
        opts = self._options
        image = self._grab(box)
        for _ in range(opts.clear_passes * OWN_PASTE_PASSES):
            if not changed(before, image, opts.thin_px):
                return True
            check_focus()
            press()
            after = self._waits.change(box, image, opts.first_clear_settle_s)
            if after is None:
                break
            image = self._waits.quiet(box, after, opts.quiet_s)
        return not changed(before, image, opts.thin_px)

    def _input_band(self, box: Rect, point: tuple[int, int]) -> Rect:
        """The rows of ``box`` around the input point (the input line), box-relative."""
        y = point[1] - box.top
        half = self._options.band_px // 2
        top = max(0, min(box.height - 1, y - half))
        bottom = max(top + 1, min(box.height, y + half))
        if not 0 <= y < box.height:
            return Rect(0, 0, box.width, box.height)
        return Rect(0, top, box.width, bottom - top)
