"""Screen frames: what the watcher needs from a screen, and when two frames differ."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from core.models import Agent
from core.private import make_dirs, write_file

PIXEL_DELTA = 12  # grey levels (of 255) a thumbnail pixel must move to count
MIN_PIXELS = 2  # changed thumbnail pixels that make a change (one is noise)
THUMBNAIL_BOX = (128, 128)  # the largest thumbnail side: enough to see text move, cheap
FRAMES_DIR = "frames"  # $SWARM_HOME/frames/<agent>.pgm: each agent's latest frame


class FrameSource(Protocol):
    """Small grayscale thumbnails of each agent's watched region."""

    def grab(self, agent: Agent) -> bytes | None:
        """The agent's region now, reduced to a grayscale thumbnail (same size every time);
        None when it has no region or no screen can be read. Blocking: run off the loop."""
        ...

    def close(self) -> None:
        """Release the screen connection."""
        ...


def frames_differ(
    before: bytes, after: bytes, pixel_delta: int = PIXEL_DELTA, min_pixels: int = MIN_PIXELS
) -> bool:
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


def thumbnail_size(
    width: int, height: int, box: tuple[int, int] = THUMBNAIL_BOX
) -> tuple[int, int]:
    """The size of the thumbnail of a ``width`` x ``height`` region (never enlarged)."""
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def frame_path(home: Path, agent_id: str) -> Path:
    """Where the watcher keeps ``agent_id``'s latest frame (a binary PGM image)."""
    return home / FRAMES_DIR / f"{agent_id}.pgm"


def save_frame(home: Path, agent: Agent, frame: bytes) -> Path | None:
    """Write ``frame`` (a grayscale thumbnail of the agent's watch region) as a PGM image,
    atomically, for the dashboard; None when it has no region or another size."""
    if agent.watch is None:
        return None
    width, height = thumbnail_size(agent.watch[2], agent.watch[3])
    if len(frame) != width * height:
        return None
    path = frame_path(home, agent.id)
    make_dirs(path.parent)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write_file(tmp, b"P5\n%d %d\n255\n" % (width, height) + frame)
    os.replace(tmp, path)
    return path
