"""Waiting for a screen region to change, or to rest: the driver's eyes.

Every wait is bounded twice: by its own timeout and by what is left of the delivery's
deadline (``budget``); ``check`` runs between grabs and raises to stop (kill switch,
deadline).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PIL import Image, ImageChops

from automation.desktop.gui_options import GuiOptions
from automation.desktop.screen import Rect

LEVEL_TOLERANCE = 8
_SIGNIFICANT = [0] * (LEVEL_TOLERANCE + 1) + [255] * (255 - LEVEL_TOLERANCE)


class Abort(Exception):
    """Stop this delivery with a receipt reason."""

    def __init__(self, reason: str, retryable: bool = True, deferred: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.deferred = deferred


def changed(before: Image.Image, after: Image.Image, thin_px: int) -> bool:
    """True when the images differ by more than a thin vertical bar (a blinking cursor).

    Differences of at most ``LEVEL_TOLERANCE`` per channel do not count: Chromium repaints
    borders and text with such tiny variations between frames.
    """
    box = changed_box(before, after)
    return box is not None and box[2] - box[0] > thin_px


def changed_box(before: Image.Image, after: Image.Image) -> tuple[int, int, int, int] | None:
    """Where the images differ by more than ``LEVEL_TOLERANCE`` (left, top, right, bottom;
    right and bottom exclusive); None where they do not."""
    diff = ImageChops.difference(before, after)
    if diff.getbbox() is None:
        return None
    bands = diff.split()
    strongest = bands[0]
    for band in bands[1:]:
        strongest = ImageChops.lighter(strongest, band)
    return strongest.point(_SIGNIFICANT).getbbox()


def crop(image: Image.Image, rect: Rect) -> Image.Image:
    """The part of ``image`` in ``rect`` (relative to the image)."""
    return image.crop(rect.bbox)


class ScreenWaits:
    """Bounded waits on screen regions for one delivery at a time."""

    def __init__(
        self,
        grab: Callable[[Rect], Image.Image],
        options: Callable[[], GuiOptions],
        check: Callable[[], None],
        budget: Callable[[float], float],
    ) -> None:
        self._grab = grab
        self._get_options = options
        self._check = check
        self._budget = budget

    @property
    def _options(self) -> GuiOptions:
        return self._get_options()

    def change(
        self,
        region: Rect,
        reference: Image.Image,
        timeout: float,
        sudden: bool = False,
        also: Image.Image | None = None,
    ) -> Image.Image | None:
        """The first grab that differs from ``reference`` (and ``also``); None at the timeout.

        ``sudden``: the grab must also differ from the grab before it, so a slow animation (a
        focus ring fading in, each frame a few levels from the last) is not taken for a paste.
        """
        deadline = time.monotonic() + self._budget(timeout)
        thin = self._options.thin_px
        previous = reference
        while True:
            image = self._grab(region)
            moved = changed(reference, image, thin) and (also is None or changed(also, image, thin))
            if moved and (not sudden or changed(previous, image, thin)):
                return image
            previous = image
            if time.monotonic() >= deadline:
                self._check()  # cut short by the delivery's deadline: say so
                return None
            self._check()
            time.sleep(self._options.poll_s)

    def quiet(self, region: Rect, last: Image.Image, quiet_s: float) -> Image.Image:
        """A grab once the region has not changed for ``quiet_s`` (bounded)."""
        opts = self._options
        deadline = time.monotonic() + self._budget(opts.quiet_timeout_s)
        since = time.monotonic()
        while True:
            image = self._grab(region)
            now = time.monotonic()
            if changed(last, image, opts.thin_px):
                last, since = image, now
            if now - since >= quiet_s or now >= deadline:
                return image
            time.sleep(max(opts.poll_s, min(quiet_s / 2, since + quiet_s - now)))
