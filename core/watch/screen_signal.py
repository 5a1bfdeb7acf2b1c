"""The screen signal's one judgement: did the agent's watched region change between two looks?

One function, so the caret-aware judge (a blinking caret is no activity) replaces today's
pixel count in one place: ``Watcher.sample`` calls :func:`screen_changed` and nothing else.
"""

from __future__ import annotations

from core.watch.frames import frames_differ


def screen_changed(before: bytes, after: bytes) -> bool:
    """True when the agent's screen changed between two looks (today: ``frames_differ``)."""
    return frames_differ(before, after)
