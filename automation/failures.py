"""Why the desktop driver (or the inbox) did not deliver: the reasons a receipt carries.

A ``StrEnum``, so a reason is stored and shown as its text ("focus not taken") while the code
compares members, never strings.
"""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    """A delivery's failure reason."""

    PAUSED = "paused"  # the kill switch
    INPUT_BUSY = "input busy"  # another process held the input lock too long
    HUMAN_ACTIVE = "human active"  # the person kept using the pointer
    NO_INPUT_POINT = "no input point"
    NO_DISPLAY = "no display"
    OFF_SCREEN = "off screen"
    BAD_KEY = "bad key"
    FOCUS_NOT_TAKEN = "focus not taken"
    INPUT_NOT_EMPTY = "input not empty"
    CLIPBOARD_NOT_READY = "clipboard not ready"
    PASTE_NOT_SEEN = "paste not seen"
    PASTE_ELSEWHERE = "pasted into another agent's input"  # its point is in that window
    NO_BRACKETED_PASTE = "no bracketed paste: each line would be sent alone"  # a line reader
    SUBMIT_NOT_SEEN = "submit not seen"
    NOT_AT_INPUT = "its input is not on its pane"  # its CLI away from its input, or gone
    STARTING = "its CLI is still starting: its input is not on its pane yet"
    DEADLINE_PASSED = "deadline passed"
    FAILSAFE = "failsafe"  # PyAutoGUI's fail-safe corner
    DRIVER_ERROR = "driver error"
    INBOX_WRITE_FAILED = "inbox write failed"
