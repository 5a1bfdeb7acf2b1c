"""Screen frames: what the watcher needs from a screen, and when two frames differ."""

from __future__ import annotations

from typing import Protocol

from core.models import Agent

PIXEL_DELTA = 12  # grey levels (of 255) a thumbnail pixel must move to count
MIN_PIXELS = 2  # changed thumbnail pixels that make a change (one is noise)


class FrameSource(Protocol):
    """Small grayscale thumbnails of each agent's watched region."""

    def grab(self, agent: Agent) -> bytes | None:
        """The agent's region now, reduced to a grayscale thumbnail (same size every time);
        None when it has no region or no screen can be read. Blocking: run off the loop."""
        ...

    def close(self) -> None:
        """Release the screen connection."""
        ...


def frames_differ(before: bytes, after: bytes, pixel_delta: int = PIXEL_DELTA,
                  min_pixels: int = MIN_PIXELS) -> bool:
    """True when enough thumbnail pixels changed; frames of another size are a new baseline."""
    if len(before) != len(after) or before == after:
        return False
    changed = 0
    for old, new in zip(before, after, strict=True):
        if abs(old - new) > pixel_delta:
            changed += 1
            if changed >= min_pixels:
                return True
    return False
