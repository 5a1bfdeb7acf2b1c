"""Screen frames for the watcher: the agents' watched regions, as small grayscale thumbnails.

Implements ``core.agents.frames.FrameSource`` with ``automation.desktop.screen.Grabber``
(imported when the first frame is grabbed). Without a display it says so once in the log and
returns no frames: the watcher then judges activity from CLI reports alone.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from PIL import Image

from automation.desktop.screen import Grabber, NoDisplay, Rect
from core.agents import THUMBNAIL_BOX, thumbnail_size
from core.errors import InvalidInput, InvalidState
from core.models import Agent

log = logging.getLogger(__name__)
THUMBNAIL = THUMBNAIL_BOX


def thumbnail(image: Image.Image, box: tuple[int, int] = THUMBNAIL) -> bytes:
    """The image reduced to a grayscale thumbnail (averaging, so noise fades), as raw bytes."""
    gray = image.convert("L")
    size = thumbnail_size(gray.width, gray.height, box)
    return gray.resize(size, Image.Resampling.BOX).tobytes()


class ScreenFrames:
    """A FrameSource over the real screen; use it from one thread (the watcher's worker)."""

    def __init__(self) -> None:
        self._grabber: Any = None
        self._disabled: str | None = None
        self._failing: set[str] = set()

    def grab(self, agent: Agent) -> bytes | None:
        """The agent's watched region as a thumbnail; None without a region or a screen."""
        if agent.watch is None or self._disabled is not None:
            return None

        try:
            image = self._screen().grab(Rect(*agent.watch))
        except NoDisplay as exc:
            self._disabled = str(exc)
            log.warning(
                "no display (%s): screen activity is not watched; agents' CLI reports "
                "still count as activity",
                exc,
            )
            return None
        except Exception as exc:  # one bad region must not stop the others
            if agent.id not in self._failing:
                log.warning("cannot grab %s's watch region %s: %s", agent.id, agent.watch, exc)
            self._failing.add(agent.id)
            return None
        self._failing.discard(agent.id)
        return thumbnail(image)

    def _screen(self) -> Any:
        if self._grabber is None:
            self._grabber = Grabber()
        return self._grabber

    def close(self) -> None:
        """Close the X connection, if one was opened."""
        if self._grabber is not None:
            self._grabber.close()
            self._grabber = None


def screenshot_png(agent: Agent) -> bytes:
    """The agent's watched region as a PNG (``/screenshot``). Blocking: run it in a thread.

    InvalidInput when the agent has no watch region, InvalidState when no screen can be read.
    """
    if agent.watch is None:
        raise InvalidInput(
            f"{agent.id} has no watch region in the agents file (watch = [x, y, width, height])"
        )

    grabber = Grabber()
    try:
        image = grabber.grab(Rect(*agent.watch))
    except NoDisplay as exc:
        raise InvalidState(f"no screen to capture: {exc}") from None
    finally:
        grabber.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
