"""Coordinate validation, screen detection and the marked screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from automation.desktop.calibrate import CROSS_COLOUR, WATCH_COLOUR, check_points
from automation.desktop.screen import (
    Rect,
    detect_screens,
    display_available,
    inside_others,
    point_problems,
    validate_agents,
)
from automation.desktop.virtual_desktop import XServer, input_point
from core.models import Agent
from tests.helpers import start_xvfb

SINGLE = [Rect(0, 0, 1920, 1080)]
LEFT_OF_PRIMARY = [Rect(-1920, 0, 1920, 1080), Rect(0, 0, 2560, 1440)]


def agent(point: tuple[int, int] | None, watch=None, delivery: str = "gui") -> Agent:
    return Agent(id="A", role="r", input=point, watch=watch, delivery=delivery)


def test_points_inside_any_screen_are_fine_even_negative_ones() -> None:
    assert point_problems((240, 480), SINGLE) == []
    assert point_problems((-1000, 500), LEFT_OF_PRIMARY) == []
    assert point_problems((2000, 1300), LEFT_OF_PRIMARY) == []


def test_points_outside_every_screen_are_reported() -> None:
    assert "off screen" in point_problems((-1, 500), SINGLE)[0]
    assert "off screen" in point_problems((1920, 10), SINGLE)[0]
    assert "off screen" in point_problems((-1000, 1200), LEFT_OF_PRIMARY)[0]  # below the left one


def test_a_failsafe_corner_is_reported() -> None:
    assert "corner" in point_problems((1919, 1079), SINGLE)[0]
    assert "corner" in point_problems((-1920, 0), LEFT_OF_PRIMARY)[0]


def test_validate_agents_lists_problems_per_agent() -> None:
    agents = [
        Agent(id="good", role="r", input=(10, 10), watch=(0, 0, 100, 100)),
        Agent(id="far", role="r", input=(5000, 10), watch=(1900, 0, 100, 100)),
        Agent(id="unset", role="r"),
        Agent(id="files", role="r", delivery="inbox"),
    ]
    problems = validate_agents(agents, SINGLE)
    assert problems["good"] == [] and problems["files"] == []
    assert len(problems["far"]) == 2
    assert "watch region" in problems["far"][1]
    assert "no input point" in problems["unset"][0]


def test_a_window_at_the_same_point_on_another_nodes_screen_is_not_in_the_way() -> None:
    """Two machines each show their first agent in the same cell of their own screen: a
    click on one machine types into its own agent, never into the other machine's; two
    agents of one machine at one point still are."""
    box = (3, 3, 474, 534)
    one = Agent(id="A", role="r", input=(240, 270), watch=box, node="desk-1")
    other = Agent(id="B", role="r", input=(240, 270), watch=box, node="desk-2")
    assert inside_others([one, other]) == {}
    same = Agent(id="C", role="r", input=(240, 270), watch=box, node="desk-1")
    assert set(inside_others([one, other, same])) == {"A", "C"}


def test_the_virtual_screen_is_detected(xserver: XServer) -> None:
    assert detect_screens() == SINGLE
    assert display_available() == (True, f"display {xserver.display}")


def test_no_display_is_detected() -> None:
    assert display_available({}) == (False, "DISPLAY is not set")
    usable, why = display_available({"DISPLAY": ":759"})
    assert not usable and "cannot open display :759" in why


def test_check_points_and_the_marked_screenshot(
    xserver: XServer, windows: object, agents: list[Agent], tmp_path: Path
) -> None:
    stray = Agent(id="Agent-X", role="r", input=(2100, 50))
    shot = tmp_path / "check" / "points.png"
    checks = check_points([*agents, stray], screenshot_path=shot)
    assert [c.ok for c in checks] == [True] * 8 + [False]
    assert checks[0].reason.startswith("window 0x") and '"Agent-1"' in checks[0].reason
    assert "off screen" in checks[8].reason
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (1920, 1080)
        for i in range(8):
            assert image.getpixel(input_point(i)) == CROSS_COLOUR
        assert image.getpixel((21, 41)) == WATCH_COLOUR  # Agent-1's watch region outlined


@pytest.mark.parametrize("point", [(0, 0), (1919, 0)])
def test_check_points_flags_corners(point: tuple[int, int]) -> None:
    (check,) = check_points([agent(point)], screens=SINGLE)
    assert not check.ok and "corner" in check.reason


ROOT = Path(__file__).resolve().parents[2]
NO_XAUTH_PROBE = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from automation.desktop.screen import display_available, Grabber, Rect
from automation.desktop.gui import load_pyautogui
print(display_available())
print(load_pyautogui().size())
print(Grabber().grab(Rect(0, 0, 10, 10)).size)
"""


def test_a_display_without_an_xauthority_file_is_used(tmp_path: Path) -> None:
    """A plain ``Xvfb :N`` and no ~/.Xauthority: python-xlib alone would refuse to connect."""
    server = start_xvfb(tmp_path / "plain", auth=False)
    try:
        assert not server.xauthority.exists()
        env = {k: v for k, v in os.environ.items() if k not in ("XAUTHORITY", "DISPLAY")}
        env |= {"DISPLAY": server.display, "HOME": str(tmp_path)}  # no ~/.Xauthority either
        done = subprocess.run(
            [sys.executable, "-c", NO_XAUTH_PROBE],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        f"(True, 'display {server.display}')",
        "Size(width=1920, height=1080)",
        "(10, 10)",
    ]
    assert "connecting without a cookie" in done.stderr
