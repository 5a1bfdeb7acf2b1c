"""Calibration helpers for ``swarm agents check`` and ``swarm agents calibrate``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import ImageDraw, ImageFont

from automation.agents_file_writer import write_agent_values
from automation.desktop.gui import load_pyautogui
from automation.desktop.screen import (
    IS_X11,
    NoDisplay,
    Rect,
    agent_problems,
    bounding_box,
    detect_screens,
    grab_whole,
    point_problems,
    x_display,
)
from automation.desktop.terminals import is_terminal_class
from automation.desktop.window_place import Desk
from automation.desktop.windows import WindowFacts, window_at
from core.agents_file import load_agents
from core.errors import InvalidInput, InvalidState, NotFound
from core.models import Agent

CROSS_COLOUR = (255, 40, 40)
WATCH_COLOUR = (255, 200, 0)
BOX_COLOUR = (0, 200, 255)
LABEL_COLOUR = (255, 255, 255)
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class PointCheck:
    """Whether one agent's coordinates are usable, and the window under its input point."""

    agent: str
    ok: bool
    problems: tuple[str, ...] = ()
    window: WindowFacts | None = None
    inbox: bool = False

    @property
    def reason(self) -> str:
        """``"inbox"``, the problems joined, the window under the point or ``"on screen"``."""
        if self.inbox:
            return "inbox"
        if self.problems:
            return "; ".join(self.problems)
        return self.window.describe() if self.window is not None else "on screen"

    def details(self) -> list[str]:
        """One text when usable (the window under the point, or "inbox"), else one per
        problem, naming the window under the point."""
        if self.ok:
            return [self.reason]
        under = f" (under it: {self.window.describe()})" if self.window is not None else ""
        return [f"{p}{'' if 'window 0x' in p else under}" for p in self.problems]

    def lines(self) -> list[str]:
        """What ``swarm agents check`` prints: the details, each on a line after the id."""
        return [f"{self.agent:<12} {detail}" for detail in self.details()]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` row."""
        window = self.window
        return {
            "agent": self.agent,
            "ok": self.ok,
            "delivery": "inbox" if self.inbox else "gui",
            "problems": list(self.problems),
            "window": None
            if window is None
            else {
                "id": f"{window.client:#x}",
                "title": window.title,
                "class": window.wm_class,
                "pid": window.pid,
            },
        }


def check_points(
    agents: Sequence[Agent],
    screenshot_path: Path | None = None,
    screens: Sequence[Rect] | None = None,
    display: Any = None,
) -> list[PointCheck]:
    """Check every desktop agent's input point, input box and watch region against the
    screens, and (on X11, unless ``screens`` are given without a ``display``) the window
    under each point: none (the bare desktop), another agent's, or one shared by two agents
    are problems, as is a point inside another agent's input box. Inbox agents are "inbox".

    With ``screenshot_path``, also save a PNG of the desktop with each input point marked
    (a cross and the agent id) and each watch region outlined. Raises NoDisplay without one,
    unless every agent is an inbox agent and no screenshot is asked for: nothing to look at.
    """
    if screenshot_path is None and all(agent.delivery == "inbox" for agent in agents):
        return [PointCheck(agent.id, True, inbox=True) for agent in agents]
    if IS_X11 and display is None and screens is None:
        with x_display() as opened:
            return check_points(agents, screenshot_path, None, opened)
    screens = list(screens) if screens is not None else detect_screens(display)
    gui = [agent for agent in agents if agent.delivery != "inbox"]
    problems = {agent.id: agent_problems(agent, screens) for agent in gui}
    for agent_id, found in _conflicts(gui, {}).items():
        problems[agent_id] += found
    under = _windows_under(gui, screens, problems, display) if display is not None else {}
    checks = []
    for agent in agents:
        if agent.delivery == "inbox":
            checks.append(PointCheck(agent.id, True, inbox=True))
            continue
        mine = tuple(problems[agent.id])
        checks.append(PointCheck(agent.id, not mine, mine, under.get(agent.id)))
    if screenshot_path is not None:
        save_marked_screenshot(agents, screenshot_path, screens)
    return checks


def _windows_under(
    agents: Sequence[Agent], screens: Sequence[Rect], problems: dict[str, list[str]], display: Any
) -> dict[str, WindowFacts]:
    """The window under each agent's (on-screen) point; adds the problems of a point over
    the bare desktop and of agents that share one window."""
    under: dict[str, WindowFacts] = {}
    for agent in agents:
        if agent.input is None or point_problems(agent.input, screens):
            continue
        found = window_at(display, *agent.input)
        x, y = agent.input
        if found is None:
            problems[agent.id].append(
                f"input point ({x}, {y}) is over the bare desktop: no window there"
            )
        else:
            under[agent.id] = found
    by_window: dict[int, list[str]] = {}
    for agent_id, found in under.items():
        by_window.setdefault(found.toplevel, []).append(agent_id)
    for sharing in by_window.values():
        for agent_id in sharing if len(sharing) > 1 else ():
            others = ", ".join(a for a in sharing if a != agent_id)
            problems[agent_id].append(
                f"in one window with {others} ({under[agent_id].describe()}): "
                "give each agent a window of its own"
            )
    return under


def save_marked_screenshot(agents: Sequence[Agent], path: Path, screens: Sequence[Rect]) -> Path:
    """Save a PNG of the whole desktop with the agents' points and regions drawn on it."""
    box = bounding_box(screens)
    image = grab_whole(box)
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
    if agent.input_box is not None:
        x, y, w, h = agent.input_box
        left, top = x - box.left, y - box.top
        draw.rectangle((left, top, left + w - 1, top + h - 1), outline=BOX_COLOUR, width=2)
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
    with_box: bool = True,
    window_of: Callable[[int, int], WindowUnder | None] | None = None,
) -> dict[str, AgentCapture]:
    """Capture input points (and input boxes) by pointing, then write them into the file.

    For each agent (all, or those named), the user hovers the pointer over its chat input and
    presses Enter (``ask``), or waits ``countdown`` seconds when given; then over two opposite
    corners of the box where typed text shows. The file is rewritten atomically, keeping every
    other key and agent, with the old one in ``<name>.bak``. Ctrl+C or a closed input stops
    with nothing written; points shared by two agents or inside another agent's box are
    flagged (and, when asking, must be confirmed). With ``window_of`` (the window under a
    point: :func:`window_under`), the window under the input point also gives the agent's
    ``watch`` region (its area) and ``app`` (``terminal`` for a terminal's window class).
    """
    agents = load_agents(config_path)
    targets = _select(agents, agent_ids, config_path)
    captures: dict[str, AgentCapture] = {}
    try:
        for agent in targets:
            capture = _capture_agent(agent, ask, countdown, say, position, with_box)
            captures[agent.id] = _with_window(agent.id, capture, window_of, say)
        problems = overlap_problems(agents, captures)
        for problem in problems:
            say(f"warning: {problem}")
        confirm = ask if problems and countdown is None else None
        answer = confirm("Write the file anyway? [y/N] ") if confirm is not None else "y"
        if answer.strip().lower() not in ("y", "yes"):
            raise InvalidState("calibration not saved: nothing written")
    except KeyboardInterrupt:
        raise InvalidState("calibration stopped (Ctrl+C): nothing written") from None
    except EOFError:
        raise InvalidInput(
            "standard input closed: nothing written (use --countdown S to capture without Enter)"
        ) from None
    values = {agent_id: capture.values() for agent_id, capture in captures.items()}
    backup = write_agent_values(config_path, values)
    say(f"Wrote {len(captures)} agent(s) to {config_path} (previous version: {backup})")
    return captures


@dataclass(frozen=True)
class AgentCapture:
    """What calibration captured for one agent."""

    input: tuple[int, int]
    input_box: tuple[int, int, int, int] | None = None
    app: str | None = None  # from the window under the input point, when it was looked up
    watch: tuple[int, int, int, int] | None = None

    def values(self) -> dict[str, list[int] | str]:
        """The agents-file keys to write."""
        out: dict[str, list[int] | str] = {"input": list(self.input)}
        if self.input_box is not None:
            out["input_box"] = list(self.input_box)
        if self.watch is not None:
            out["watch"] = list(self.watch)
        if self.app is not None:
            out["app"] = self.app
        return out


@dataclass(frozen=True)
class WindowUnder:
    """The top-level window under a point: its area and WM_CLASS."""

    box: Rect
    wm_class: tuple[str, ...]


def window_under(x: int, y: int) -> WindowUnder | None:
    """The topmost client window under (x, y) on ``$DISPLAY``, or None (none, or no X)."""

    try:
        with x_display() as display:
            desk = Desk(display)
            window = desk.window_at(x, y)
            info = desk.info(window) if window is not None else None
            return WindowUnder(desk.box(window), info.wm_class) if info and window else None
    except NoDisplay:
        return None


def _with_window(
    agent: str,
    capture: AgentCapture,
    window_of: Callable[[int, int], WindowUnder | None] | None,
    say: Callable[[str], None],
) -> AgentCapture:
    """The capture with ``app`` and ``watch`` from the window under its input point."""

    found = window_of(*capture.input) if window_of is not None else None
    if found is None:
        return capture
    app = "terminal" if is_terminal_class(found.wm_class) else "chat"
    box = found.box
    say(
        f'{agent}: window {"/".join(found.wm_class) or "?"} -> app = "{app}", '
        f"watch = [{box.left}, {box.top}, {box.width}, {box.height}]"
    )
    return replace(capture, app=app, watch=(box.left, box.top, box.width, box.height))


def overlap_problems(agents: Sequence[Agent], captures: dict[str, AgentCapture]) -> list[str]:
    """Points shared by two agents, or inside another agent's input box (after capture)."""
    return [problem for found in _conflicts(agents, captures).values() for problem in found]


def _conflicts(agents: Sequence[Agent], captures: dict[str, AgentCapture]) -> dict[str, list[str]]:
    """Per agent: its point shared with another agent's (named once, on the first of them)
    or inside another agent's input box, else inside its window (its watch region: a click
    there types into that agent); ``captures`` override the file's values."""
    points: dict[str, tuple[int, int]] = {}
    boxes: dict[str, tuple[int, int, int, int]] = {}
    watches: dict[str, tuple[int, int, int, int]] = {}
    for agent in agents:
        capture = captures.get(agent.id)
        point = capture.input if capture else agent.input
        box = capture.input_box if capture and capture.input_box else agent.input_box
        watch = capture.watch if capture and capture.watch else agent.watch
        if point is not None:
            points[agent.id] = point
        if box is not None:
            boxes[agent.id] = box
        if watch is not None:
            watches[agent.id] = watch
    problems: dict[str, list[str]] = {agent.id: [] for agent in agents}
    for agent_id, point in points.items():
        same = [other for other, p in points.items() if p == point and other != agent_id]
        if same and agent_id < min(same):
            problems[agent_id].append(
                f"{agent_id} and {', '.join(same)} share the input point {list(point)}"
            )
        for other in (a.id for a in agents if a.id != agent_id):
            box, watch = boxes.get(other), watches.get(other)
            if box is not None and Rect(*box).contains(*point):
                problems[agent_id].append(
                    f"{agent_id}'s input point {list(point)} is inside "
                    f"{other}'s input box {list(box)}"
                )
            elif watch is not None and Rect(*watch).contains(*point):
                problems[agent_id].append(
                    f"{agent_id}'s input point {list(point)} is inside {other}'s window "
                    f"(its watch region {list(watch)}): swarm run does not deliver to it"
                )
    return problems


def _select(agents: list[Agent], ids: Sequence[str], path: Path) -> list[Agent]:
    if not ids:
        return agents
    by_id = {agent.id.lower(): agent for agent in agents}
    missing = [i for i in ids if i.lower() not in by_id]
    if missing:
        raise NotFound(f"unknown agent(s) {', '.join(missing)} in {path}")
    return [by_id[i.lower()] for i in ids]


def _capture_agent(
    agent: Agent,
    ask: Callable[[str], str] | None,
    countdown: float | None,
    say: Callable[[str], None],
    position: Callable[[], tuple[int, int]],
    with_box: bool,
) -> AgentCapture:
    def capture(where: str) -> tuple[int, int]:
        return _capture(where, ask, countdown, say, position)

    point = capture(f"the chat input of {agent.id} ({agent.role})")
    say(f"{agent.id}: input = [{point[0]}, {point[1]}]")
    if not with_box:
        return AgentCapture(point)
    first = capture(f"one corner of the box where typed text shows in {agent.id}'s input")
    second = capture(f"the opposite corner of {agent.id}'s input box")
    left, top = min(first[0], second[0]), min(first[1], second[1])
    box = (left, top, abs(first[0] - second[0]) + 1, abs(first[1] - second[1]) + 1)
    say(f"{agent.id}: input_box = [{', '.join(map(str, box))}]")
    if not Rect(*box).contains(*point):
        say(f"warning: {agent.id}'s input point is outside its input box")
    return AgentCapture(point, box)


def _capture(
    where: str,
    ask: Callable[[str], str] | None,
    countdown: float | None,
    say: Callable[[str], None],
    position: Callable[[], tuple[int, int]],
) -> tuple[int, int]:
    if countdown is None and ask is not None:
        ask(f"Hover the pointer over {where}, then press Enter: ")
    else:
        seconds = countdown or 0.0
        say(f"Hover the pointer over {where}: reading it in {seconds:g} s")
        time.sleep(seconds)
    x, y = position()
    return x, y
