"""Calibration helpers for ``swarm agents check`` and ``swarm agents calibrate``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageDraw, ImageFont

from automation.agents_file import write_input_points
from automation.screen import Grabber, Rect, agent_problems, bounding_box, detect_screens
from core.config import load_agents
from core.errors import NotFound
from core.models import Agent

CROSS_COLOUR = (255, 40, 40)
WATCH_COLOUR = (255, 200, 0)
LABEL_COLOUR = (255, 255, 255)
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class PointCheck:
    """Whether one agent's coordinates are usable."""

    agent: str
    ok: bool
    problems: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """``"on screen"`` or the problems, joined."""
        return "; ".join(self.problems) if self.problems else "on screen"


def check_points(
    agents: Sequence[Agent],
    screenshot_path: Path | None = None,
    screens: Sequence[Rect] | None = None,
) -> list[PointCheck]:
    """Check every agent's input point and watch region against the screens.

    With ``screenshot_path``, also save a PNG of the desktop with each input point marked
    (a cross and the agent id) and each watch region outlined. Raises NoDisplay without one.
    """
    screens = list(screens) if screens is not None else detect_screens()
    checks = []
    for agent in agents:
        problems = tuple(agent_problems(agent, screens))
        checks.append(PointCheck(agent.id, not problems, problems))
    if screenshot_path is not None:
        save_marked_screenshot(agents, screenshot_path, screens)
    return checks


def save_marked_screenshot(agents: Sequence[Agent], path: Path, screens: Sequence[Rect]) -> Path:
    """Save a PNG of the whole desktop with the agents' points and regions drawn on it."""
    box = bounding_box(screens)
    grabber = Grabber()
    try:
        image = grabber.grab(box).convert("RGB")
    finally:
        grabber.close()
    draw = ImageDraw.Draw(image)
    font = _font()
    for agent in agents:
        _mark(draw, font, agent, box)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


def _font() -> _Font:
    try:
        return ImageFont.load_default(size=16)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _mark(draw: ImageDraw.ImageDraw, font: _Font, agent: Agent, box: Rect) -> None:
    if agent.watch is not None:
        x, y, w, h = agent.watch
        left, top = x - box.left, y - box.top
        draw.rectangle((left, top, left + w - 1, top + h - 1), outline=WATCH_COLOUR, width=2)
    if agent.input is None:
        return
    x, y = agent.input[0] - box.left, agent.input[1] - box.top
    draw.line((x - 12, y, x + 12, y), fill=CROSS_COLOUR, width=3)
    draw.line((x, y - 12, x, y + 12), fill=CROSS_COLOUR, width=3)
    draw.text(
        (x + 8, y - 26),
        agent.id,
        fill=LABEL_COLOUR,
        font=font,
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )


def pointer_position() -> tuple[int, int]:
    """Where the pointer is now (imports PyAutoGUI; NoDisplay without a display)."""
    from automation.gui import load_pyautogui

    x, y = load_pyautogui().position()
    return int(x), int(y)


def calibrate(
    config_path: Path,
    agent_ids: Sequence[str] = (),
    *,
    ask: Callable[[str], str] | None = input,
    countdown: float | None = None,
    say: Callable[[str], None] = print,
    position: Callable[[], tuple[int, int]] = pointer_position,
) -> dict[str, tuple[int, int]]:
    """Capture input points by pointing at them, then write them into the agents file.

    For each agent (all, or those named), the user hovers the pointer over its chat input and
    presses Enter (``ask``), or waits ``countdown`` seconds when given. The file is rewritten
    atomically, keeping every other key and agent, with the old one in ``<name>.bak``.
    """
    agents = load_agents(config_path)
    targets = _select(agents, agent_ids, config_path)
    points = {}
    for agent in targets:
        points[agent.id] = _capture(agent, ask, countdown, say, position)
    backup = write_input_points(config_path, points)
    say(f"Wrote {len(points)} point(s) to {config_path} (previous version: {backup})")
    return points


def _select(agents: list[Agent], ids: Sequence[str], path: Path) -> list[Agent]:
    if not ids:
        return agents
    by_id = {agent.id.lower(): agent for agent in agents}
    missing = [i for i in ids if i.lower() not in by_id]
    if missing:
        raise NotFound(f"unknown agent(s) {', '.join(missing)} in {path}")
    return [by_id[i.lower()] for i in ids]


def _capture(
    agent: Agent,
    ask: Callable[[str], str] | None,
    countdown: float | None,
    say: Callable[[str], None],
    position: Callable[[], tuple[int, int]],
) -> tuple[int, int]:
    where = f"the chat input of {agent.id} ({agent.role})"
    if countdown is None and ask is not None:
        ask(f"Hover the pointer over {where}, then press Enter: ")
    else:
        seconds = countdown or 0.0
        say(f"Hover the pointer over {where}: reading it in {seconds:g} s")
        time.sleep(seconds)
    x, y = position()
    say(f"{agent.id}: input = [{x}, {y}]")
    return x, y
