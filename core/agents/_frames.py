"""Screen frames: what the watcher needs from a screen, and when two frames differ."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.models import Agent
from core.privacy.files import make_dirs, write_file

if TYPE_CHECKING:
    from PIL import Image

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


@dataclass(frozen=True)
class Box:
    """A rectangle of thumbnail pixels: ``left``/``top`` inclusive, ``right``/``bottom`` not."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        """Columns covered."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """Rows covered."""
        return self.bottom - self.top

    def within(self, other: Box) -> bool:
        """True when this box lies wholly inside ``other``."""
        return (
            other.left <= self.left
            and other.top <= self.top
            and self.right <= other.right
            and self.bottom <= other.bottom
        )


@dataclass(frozen=True)
class Change:
    """Where two frames differ: the box around the pixels that moved, and how many did."""

    box: Box
    pixels: int


def gray(frame: bytes, size: tuple[int, int]) -> Image.Image:
    """A thumbnail's bytes as a grayscale image of ``size``."""
    from PIL import Image  # the face imports this module: Pillow only when frames are read

    return Image.frombytes("L", size, frame)


def change_between(
    before: bytes, after: bytes, size: tuple[int, int], pixel_delta: int = PIXEL_DELTA
) -> Change | None:
    """The pixels of ``after`` more than ``pixel_delta`` grey levels from ``before``, as a box
    and a count; None when none moved. Both frames must be ``size`` thumbnails."""
    if before == after:
        return None
    from PIL import ImageChops

    moved = ImageChops.difference(gray(before, size), gray(after, size))
    mask = moved.point(_threshold(pixel_delta))
    found = mask.getbbox()
    if found is None:
        return None
    return Change(Box(*found), mask.histogram()[255])


@functools.cache
def _threshold(pixel_delta: int) -> list[int]:
    return [0 if level <= pixel_delta else 255 for level in range(256)]


def crop(frame: bytes, size: tuple[int, int], box: Box) -> bytes:
    """The pixels of ``box`` in ``frame`` (row by row)."""
    return gray(frame, size).crop((box.left, box.top, box.right, box.bottom)).tobytes()


def same_pixels(first: bytes, second: bytes, pixel_delta: int = PIXEL_DELTA) -> bool:
    """True when two crops of one box differ nowhere by more than ``pixel_delta``."""
    if first == second:
        return True
    if len(first) != len(second):
        return False
    return all(abs(a - b) <= pixel_delta for a, b in zip(first, second, strict=True))


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
