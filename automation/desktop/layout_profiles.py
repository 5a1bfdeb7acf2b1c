"""Per-application layout profiles: where an editor's chat input sits inside its window.

Recorded once (``swarm agents calibrate --app NAME AGENT``) and reused for every window of
that application, whatever its size: each coordinate is kept as a distance from the nearer
edge of the window (a chat panel docked right and bottom stays right and bottom).
``$SWARM_HOME/desktop/profiles/<NAME>.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation.agents_file_writer import atomic_write
from automation.desktop.screen import Rect
from core.errors import ConfigError
from core.privacy.files import make_dirs

Anchored = tuple[str, int]  # ("left" | "right" | "top" | "bottom", pixels from that edge)


@dataclass(frozen=True)
class Profile:
    """The input point and the input box's corners, each anchored to an edge."""

    app: str
    input: tuple[Anchored, Anchored]
    box_corners: tuple[tuple[Anchored, Anchored], tuple[Anchored, Anchored]]

    def to_json(self) -> dict[str, Any]:
        """Plain data for the profile file."""
        return {"app": self.app, "input": self.input, "box_corners": self.box_corners}


def path_of(home: Path, app: str) -> Path:
    """The profile file of ``app``."""
    return home / "desktop" / "profiles" / f"{app}.json"


def record(
    app: str, window: Rect, point: tuple[int, int], box: tuple[int, int, int, int]
) -> Profile:
    """A profile from a point and box measured on ``window`` (screen coordinates)."""
    x, y, width, height = box
    corners = ((x, y), (x + width - 1, y + height - 1))
    return Profile(
        app,
        _anchor(window, point),
        (_anchor(window, corners[0]), _anchor(window, corners[1])),
    )


def apply(profile: Profile, window: Rect) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """The input point and input box on ``window``."""
    point = _place(window, profile.input)
    (left, top), (right, bottom) = (_place(window, c) for c in profile.box_corners)
    return point, (left, top, right - left + 1, bottom - top + 1)


def save(home: Path, profile: Profile) -> Path:
    """Write the profile atomically; its path."""
    path = path_of(home, profile.app)
    make_dirs(path.parent)
    atomic_write(path, json.dumps(profile.to_json(), indent=2) + "\n")
    return path


def load(home: Path, app: str) -> Profile | None:
    """The profile of ``app``, or None when none was recorded."""
    path = path_of(home, app)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        point = _pair(raw["input"])
        first, second = raw["box_corners"]
        return Profile(app, point, (_pair(first), _pair(second)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"layout profile {path} is damaged ({exc}): record it again with "
                          f"swarm agents calibrate --app {app}") from None  # fmt: skip


def _pair(raw: Any) -> tuple[Anchored, Anchored]:
    (x_edge, x), (y_edge, y) = raw
    if x_edge not in ("left", "right") or y_edge not in ("top", "bottom"):
        raise ValueError("unknown edge")
    return (str(x_edge), int(x)), (str(y_edge), int(y))


def _anchor(window: Rect, point: tuple[int, int]) -> tuple[Anchored, Anchored]:
    dx, dy = point[0] - window.left, point[1] - window.top
    x = ("left", dx) if dx < window.width / 2 else ("right", window.right - 1 - point[0])
    y = ("top", dy) if dy < window.height / 2 else ("bottom", window.bottom - 1 - point[1])
    return x, y


def _place(window: Rect, anchored: tuple[Anchored, Anchored]) -> tuple[int, int]:
    (x_edge, x), (y_edge, y) = anchored
    left = window.left + x if x_edge == "left" else window.right - 1 - x
    top = window.top + y if y_edge == "top" else window.bottom - 1 - y
    return left, top
