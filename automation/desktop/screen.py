"""Screens, coordinates and screenshots, without PyAutoGUI.

On X11 everything goes through python-xlib (one connection per user, opened lazily);
elsewhere Pillow's ``ImageGrab`` and PyAutoGUI's screen size are used.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import logging
import os
import struct
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from core.models import Agent

log = logging.getLogger(__name__)

IS_X11 = sys.platform not in ("win32", "darwin")


@dataclass(frozen=True)
class Rect:
    """A screen rectangle in virtual-screen coordinates."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.left + self.width

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.top + self.height

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), as Pillow wants it."""
        return self.left, self.top, self.right, self.bottom

    def contains(self, x: int, y: int) -> bool:
        """True when the point is inside."""
        return self.left <= x < self.right and self.top <= y < self.bottom

    def encloses(self, other: Rect) -> bool:
        """True when ``other`` lies wholly inside."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def clip(self, other: Rect) -> Rect | None:
        """The part of ``other`` inside this rectangle, or None."""
        left, top = max(self.left, other.left), max(self.top, other.top)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        if right <= left or bottom <= top:
            return None
        return Rect(left, top, right - left, bottom - top)


class NoDisplay(Exception):
    """No screen can be used (no DISPLAY, or it cannot be opened)."""


def bounding_box(screens: Sequence[Rect]) -> Rect:
    """The rectangle around every screen (the virtual screen)."""
    left = min(s.left for s in screens)
    top = min(s.top for s in screens)
    right = max(s.right for s in screens)
    bottom = max(s.bottom for s in screens)
    return Rect(left, top, right - left, bottom - top)


def screen_of(x: int, y: int, screens: Sequence[Rect]) -> Rect | None:
    """The screen holding the point, or None when it is off every screen."""
    return next((s for s in screens if s.contains(x, y)), None)


def point_problems(point: tuple[int, int], screens: Sequence[Rect]) -> list[str]:
    """Why an input point cannot be clicked (empty when it can)."""
    x, y = point
    if screen_of(x, y, screens) is None:
        box = bounding_box(screens)
        return [f"input point ({x}, {y}) is off screen (screen area {_describe(box)})"]
    box = bounding_box(screens)
    corners = {(box.left, box.top), (box.right - 1, box.top)}
    corners |= {(box.left, box.bottom - 1), (box.right - 1, box.bottom - 1)}
    if (x, y) in corners:
        return [f"input point ({x}, {y}) is a screen corner (the PyAutoGUI failsafe)"]
    return []


def region_problems(region: tuple[int, int, int, int], screens: Sequence[Rect]) -> list[str]:
    """Why a watch region cannot be captured whole (empty when it can)."""
    rect = Rect(*region)
    if any(s.encloses(rect) for s in screens):
        return []
    return [f"watch region {list(region)} is not wholly on one screen"]


def agent_problems(agent: Agent, screens: Sequence[Rect]) -> list[str]:
    """Every coordinate problem of one agent."""
    problems: list[str] = []
    if agent.input is None:
        if agent.delivery == "gui":
            problems.append("no input point (run: swarm agents calibrate)")
    else:
        problems += point_problems(agent.input, screens)
    if agent.watch is not None:
        problems += region_problems(agent.watch, screens)
    if agent.input_box is not None and agent.input_box != agent.watch:
        problems += [
            p.replace("watch region", "input box")
            for p in region_problems(agent.input_box, screens)
        ]
    return problems


def window_owner(agent: Agent, agents: Iterable[Agent]) -> tuple[Agent, str] | None:
    """The other on-screen agent whose window holds ``agent``'s input point, with the region
    that says so (``watch region [x, y, w, h]``, else ``input box [...]``); None when the
    point is in no other agent's window (a click there would type into that agent). An agent
    of another delivery node is on another machine's screen: never in the way."""
    if agent.input is None:
        return None
    for other in agents:
        if other.id == agent.id or other.delivery == "inbox" or other.node != agent.node:
            continue
        for name, region in (("watch region", other.watch), ("input box", other.input_box)):
            if region is not None and Rect(*region).contains(*agent.input):
                return other, f"{name} {list(region)}"
    return None


def inside_others(agents: Sequence[Agent]) -> dict[str, str]:
    """Agent id -> why its input point is not its own (in another agent's window), for each
    desktop agent whose point lies in another's window."""
    found = {}
    for agent in agents:
        owner = window_owner(agent, agents) if agent.delivery != "inbox" else None
        if owner is not None and agent.input is not None:
            x, y = agent.input
            found[agent.id] = (
                f"input point ({x}, {y}) lies inside {owner[0].id}'s window (its {owner[1]})"
            )
    return found


def validate_agents(agents: Iterable[Agent], screens: Sequence[Rect]) -> dict[str, list[str]]:
    """Agent id -> list of coordinate problems (an empty list when all is well)."""
    return {agent.id: agent_problems(agent, screens) for agent in agents}


def _describe(rect: Rect) -> str:
    return f"{rect.left},{rect.top} to {rect.right - 1},{rect.bottom - 1}"


def display_available(env: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """Whether a screen can be driven, and if not, why (one short phrase)."""
    if not IS_X11:
        return True, "desktop"
    name = (os.environ if env is None else env).get("DISPLAY", "")
    if not name:
        return False, "DISPLAY is not set"
    try:
        with x_display(name):
            pass
    except NoDisplay as exc:
        return False, str(exc)
    return True, f"display {name}"


@contextlib.contextmanager
def x_display(name: str | None = None) -> Iterator[Any]:
    """An open python-xlib connection, closed afterwards; NoDisplay when it cannot open."""
    display = open_x_display(name)
    try:
        yield display
    finally:
        display.close()


def allow_missing_xauthority() -> None:
    """Connect without a cookie when the X authority file does not exist.

    python-xlib (and so PyAutoGUI) refuses to connect at all when ``$XAUTHORITY`` or
    ``~/.Xauthority`` is missing, although servers without authentication (a plain ``Xvfb :1``,
    many VNC desktops) accept such clients. Pointing ``XAUTHORITY`` at a file whose only entry
    matches no display makes it (and libX11, for xsel) connect with no cookie.
    """
    path = os.environ.get("XAUTHORITY") or os.path.join(os.path.expanduser("~"), ".Xauthority")
    if os.path.exists(path):
        return
    os.environ["XAUTHORITY"] = _no_cookie_file()
    log.debug("no X authority file at %s: connecting without a cookie", path)


def _no_cookie_file() -> str:
    """A private X authority file with one entry that matches no display (removed at exit)."""

    def field(value: bytes) -> bytes:
        return struct.pack(">H", len(value)) + value

    entry = struct.pack(">H", 256) + field(b"swarm-no-cookie") + field(b"-1")
    fd, name = tempfile.mkstemp(prefix="swarm-no-xauth-")
    with os.fdopen(fd, "wb") as out:
        out.write(entry + field(b"") + field(b""))
    atexit.register(_remove, name)
    return name


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def open_x_display(name: str | None = None) -> Any:
    """Open a python-xlib connection; raise NoDisplay with the reason when impossible."""
    name = name or os.environ.get("DISPLAY", "")
    if not name:
        raise NoDisplay("DISPLAY is not set")
    allow_missing_xauthority()
    error = None
    with warnings.catch_warnings():
        # python-xlib leaves the X authority file (and, on failure, its socket) open.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            from Xlib.display import Display

            return Display(name)
        except Exception as exc:
            error = f"cannot open display {name}: {type(exc).__name__}: {exc}"
        gc.collect()  # free the failed connection's socket while its warning is ignored
    raise NoDisplay(error)


def detect_screens(display: Any = None) -> list[Rect]:
    """The monitors of the desktop, in virtual-screen coordinates."""
    if not IS_X11:
        return [_desktop_bounds()]
    if display is None:
        with x_display() as opened:
            return detect_screens(opened)
    root = display.screen().root.get_geometry()
    whole = [Rect(0, 0, root.width, root.height)]
    try:
        if display.has_extension("XINERAMA") and display.xinerama_is_active():
            heads = display.xinerama_query_screens().screens
            return [Rect(h.x, h.y, h.width, h.height) for h in heads] or whole
    except Exception:  # an odd Xinerama is no reason to refuse the whole screen
        return whole
    return whole


def _desktop_bounds() -> Rect:
    if sys.platform == "win32":
        metric = ctypes.windll.user32.GetSystemMetrics  # type: ignore[attr-defined]
        return Rect(metric(76), metric(77), metric(78), metric(79))
    import pyautogui

    width, height = pyautogui.size()
    return Rect(0, 0, width, height)


def grab_whole(rect: Rect) -> Image.Image:
    """A large region (the whole desktop) in one request.

    python-xlib takes seconds for a full-screen image (it decodes the reply in Python); mss
    takes milliseconds.
    """
    grabber = Grabber()
    try:
        return grabber.grab(rect)
    except Exception as exc:  # mss.ScreenShotError and the X errors beneath it
        raise NoDisplay(f"cannot grab the screen: {exc}") from None
    finally:
        grabber.close()


class Grabber:
    """Screenshots of screen regions (only the region crosses the wire), and the screens.

    ``display_name`` is the X display to use (default: ``$DISPLAY`` when first needed).
    """

    def __init__(self, display_name: str | None = None) -> None:
        self.display_name = display_name
        self._display: Any = None
        self._mss: Any = None

    def grab(self, rect: Rect) -> Image.Image:
        """An RGB image of ``rect`` (through mss: ~0.6 ms for 480x540, python-xlib takes 28)."""
        if self._mss is None:
            import mss

            if IS_X11:
                name = self.display_name or os.environ.get("DISPLAY")
                if not name:
                    raise NoDisplay("DISPLAY is not set")
                allow_missing_xauthority()
                try:
                    self._mss = mss.MSS(display=name)
                except mss.ScreenShotError as exc:
                    raise NoDisplay(f"cannot open display {name}: {exc}") from None
            else:
                self._mss = mss.MSS()
        box = {"left": rect.left, "top": rect.top, "width": rect.width, "height": rect.height}
        shot = self._mss.grab(box)
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    def screens(self) -> list[Rect]:
        """The monitors, asked through this grabber's connection."""
        if not IS_X11:
            return detect_screens()
        return detect_screens(self.connection())

    def connection(self) -> Any:
        """This grabber's python-xlib connection (opened when first needed)."""
        if self._display is None:
            self._display = open_x_display(self.display_name)
        return self._display

    def close(self) -> None:
        """Close the X connections, if any."""
        if self._display is not None:
            with contextlib.suppress(Exception):
                self._display.close()
            self._display = None
        if self._mss is not None:
            with contextlib.suppress(Exception):
                self._mss.close()
            self._mss = None
