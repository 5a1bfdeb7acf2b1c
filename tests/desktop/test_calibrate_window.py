"""``swarm agents calibrate`` asks what it needs: the window under the input point gives
``app`` (a terminal's class: ``terminal``) and ``watch`` (the window's area)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.desktop.calibrate import calibrate, window_under
from automation.desktop.virtual_desktop import XServer, display_env
from core.agents_file import load_agents
from tests.apps import launchers
from tests.apps.launchers import Launched
from tests.desktop.test_desktop_up import ROOT, outer_box

AGENTS = """# calibrated by pointing
[[agent]]
id = "Term"
role = "coder"

[[agent]]
id = "Tk"
role = "qa"  # a chat window
"""
TERM_CELL = (0, 540, 480, 540)
TK_CELL = (480, 540, 480, 540)


@pytest.fixture
def windows(shared_xvfb: XServer, tmp_path: Path) -> Iterator[dict[str, int]]:
    """A real xterm and a real Tk chat window in the lower row, raised above the rest."""
    reason = launchers.missing_programs()
    if reason:
        pytest.skip(f"{', '.join(reason)} not installed")
    started: list[Launched] = []
    try:
        started.append(launchers.launch_xterm(shared_xvfb, "calib-term", TERM_CELL,
                                              tmp_path / "t.jsonl", tmp_path))  # fmt: skip
        started.append(launchers.launch_tk(shared_xvfb, "calib-tk", TK_CELL,
                                           tmp_path / "k.jsonl", tmp_path))  # fmt: skip
        found = {}
        for launched in started:
            window = launchers.wait_for_window(shared_xvfb, launched.name, 30, launched.log)
            shared_xvfb.xdotool("windowraise", str(window))
            found[launched.name] = window
        yield found
    finally:
        for launched in started:
            launched.stop()


def content(server: XServer, window: int) -> tuple[int, int, int, int]:
    """The window's own area on screen (xwininfo's corner is its border's, outside it)."""
    x, y, width, height = launchers.window_box(server, window)
    _x, _y, outer_w, _h = outer_box(server, window)
    border = (outer_w - width) // 2
    return x + border, y + border, width, height


def centre(server: XServer, window: int) -> tuple[int, int]:
    """The middle of the window."""
    x, y, width, height = launchers.window_box(server, window)
    return x + width // 2, y + height // 2


def test_calibrate_takes_app_and_watch_from_the_window_under_the_point(
    shared_xvfb: XServer, windows: dict[str, int], tmp_path: Path
) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(AGENTS, encoding="utf-8")
    targets = iter([centre(shared_xvfb, windows["calib-term"]),
                    centre(shared_xvfb, windows["calib-tk"])])  # fmt: skip

    def hover_then_enter(_prompt: str) -> str:
        x, y = next(targets)
        shared_xvfb.xdotool("mousemove", str(x), str(y))
        return ""

    with display_env(shared_xvfb):
        calibrate(config, ask=hover_then_enter, say=lambda _: None, with_box=False,
                  window_of=window_under)  # fmt: skip
    term, tk = load_agents(config)
    assert term.app == "terminal"
    assert term.watch == content(shared_xvfb, windows["calib-term"])
    assert tk.app == "chat"
    assert tk.watch == content(shared_xvfb, windows["calib-tk"])
    assert "# a chat window" in config.read_text(encoding="utf-8")


def test_the_cli_calibration_detects_the_terminal(
    shared_xvfb: XServer, windows: dict[str, int], tmp_path: Path
) -> None:
    config = tmp_path / "agents.toml"
    config.write_text(AGENTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {**shared_xvfb.env, "SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    x, y = centre(shared_xvfb, windows["calib-term"])
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "agents", "calibrate", "Term", "--points-only"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stdin is not None
        said = ""
        deadline = time.monotonic() + 30
        while "Hover" not in said and time.monotonic() < deadline:
            said += os.read(proc.stdout.fileno(), 4096).decode()
        shared_xvfb.xdotool("mousemove", str(x), str(y))
        out, err = proc.communicate("\n", timeout=30)
    assert proc.returncode == 0, said + out + err
    assert 'app = "terminal"' in said + out
    (term, _tk) = load_agents(config)
    assert (term.app, term.input) == ("terminal", (x, y))
