"""Clearing a real Tk input while the application lags behind the keys (a loaded machine).

Tk's Ctrl+/ on an empty input paints the selected line end across the whole input; the
Delete after it takes that away again. When the machine is busy, Tk draws between the two
keys and the driver sees that selection for a moment: a pass of the clear keys that shows a
change and then comes back to where it started has cleared nothing, and the input is empty.
The lag is made real here: the Tk process is stopped (SIGSTOP) after it drew the selection
and before it reads the Delete, as the scheduler of a loaded machine does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from automation.desktop.gui_options import GuiOptions
from automation.desktop.input_clearing import InputClearer, UnsentPastes
from automation.desktop.screen import Grabber, Rect
from automation.desktop.screen_waits import Abort, ScreenWaits, changed
from automation.desktop.virtual_desktop import AgentWindows, XServer, input_box, input_point
from automation.failures import Failure

LAG_S = 0.015  # Tk stopped this long after drawing the selection: more than a 5 ms rest


@pytest.fixture
def grabber(xserver: XServer) -> Iterator[Grabber]:
    """Screenshots of the test display."""
    grabber = Grabber(xserver.display)
    yield grabber
    grabber.close()


def _clearer(grabber: Grabber) -> InputClearer:
    options = GuiOptions()
    waits = ScreenWaits(grabber.grab, lambda: options, lambda: None, lambda timeout: timeout)
    return InputClearer(grabber.grab, waits, lambda: options)


def _focus_first_input(xserver: XServer) -> tuple[Rect, tuple[int, int]]:
    x, y = input_point(0)
    xserver.xdotool("mousemove", str(x), str(y))
    xserver.xdotool("click", "1")
    time.sleep(0.3)  # the focus ring and caret drawn
    return Rect(*input_box(0)), (x, y)


def _lagging_clear_keys(
    xserver: XServer, windows: AgentWindows, grabber: Grabber, box: Rect
) -> Callable[[], None]:
    """Ctrl+/ then Delete, with Tk stopped for LAG_S between its drawing of the first key
    and its reading of the second (both keys are sent when this returns, as PyAutoGUI's are)."""
    pid = windows.process.pid
    lags: list[threading.Timer] = []

    def press() -> None:
        for lag in lags:  # the lag of the pass before ends, and Tk catches up, first
            lag.join()
        before = _rest(grabber, box, 0.05)
        xserver.xdotool("key", "ctrl+slash")
        _wait_for_change(grabber, box, before)
        os.kill(pid, signal.SIGSTOP)
        try:
            xserver.xdotool("key", "Delete")
        finally:
            lags.append(threading.Timer(LAG_S, os.kill, (pid, signal.SIGCONT)))
            lags[-1].start()

    return press


def _wait_for_change(grabber: Grabber, box: Rect, before: Image.Image) -> None:
    deadline = time.monotonic() + 2.0
    while not changed(before, grabber.grab(box), 3):
        assert time.monotonic() < deadline, "Ctrl+/ drew nothing"
        time.sleep(0.001)


def _rest(grabber: Grabber, box: Rect, wait_s: float = 0.2) -> Image.Image:
    time.sleep(wait_s)
    return grabber.grab(box)


@pytest.mark.parametrize("draft", ["", "a draft someone left"], ids=["empty", "draft"])
def test_an_input_is_cleared_though_tk_draws_between_the_clear_keys(
    xserver: XServer, windows: AgentWindows, grabber: Grabber, draft: str
) -> None:
    box, point = _focus_first_input(xserver)
    empty = grabber.grab(box)
    if draft:
        xserver.xdotool("type", "--delay", "5", draft)
        assert changed(empty, _rest(grabber, box), 3)
    press = _lagging_clear_keys(xserver, windows, grabber, box)
    look = _clearer(grabber).clear("Agent-1", box, point, press, lambda: None)
    assert not changed(empty, look, 3), "the look returned is not the empty input"
    assert not changed(empty, _rest(grabber, box), 3)


def test_keys_that_delete_one_character_a_pass_still_leave_it_not_empty(
    xserver: XServer, windows: AgentWindows, grabber: Grabber
) -> None:
    box, point = _focus_first_input(xserver)
    xserver.xdotool("type", "--delay", "5", "a draft someone left")
    _rest(grabber, box)

    def line_start_then_delete() -> None:  # Tk's own Ctrl+A: to the line start
        subprocess.run(["xdotool", "key", "ctrl+a", "Delete"], env=xserver.env, check=True)

    with pytest.raises(Abort) as refused:
        _clearer(grabber).clear("Agent-1", box, point, line_start_then_delete, lambda: None)
    assert refused.value.reason is Failure.INPUT_NOT_EMPTY


@pytest.mark.parametrize("in_files", [False, True])
def test_a_marks_paste_is_unseen_until_seen_and_its_window_kept(
    tmp_path: Path, in_files: bool
) -> None:
    marks = UnsentPastes(tmp_path / "input.unsent" if in_files else None)
    assert marks.unseen_since("Agent-1") is None  # not marked
    started = time.time()
    marks.add("Agent-1", "window-7")
    since = marks.unseen_since("Agent-1")
    assert since is not None and started - 1 <= since <= time.time() + 1
    marks.seen("Agent-1")  # its paste landed: nothing of it is on its way
    assert marks.unseen_since("Agent-1") is None
    assert marks.window_of("Agent-1") == "window-7" and "Agent-1" in marks
    marks.discard("Agent-1")
    marks.seen("Agent-1")  # a mark gone meanwhile is not made again
    assert "Agent-1" not in marks and marks.window_of("Agent-1") is None
