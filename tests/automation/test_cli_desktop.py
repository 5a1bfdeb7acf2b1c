"""``swarm agents check`` and ``swarm agents calibrate`` on the virtual screen."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from PIL import Image

from automation.desktop.virtual_desktop import AgentWindows, XServer
from core.agents_file import load_agents
from tests.helpers import run_cli, write_agents


def screen_env(xserver: XServer) -> dict[str, str]:
    """What a terminal on that screen has."""
    return {"DISPLAY": xserver.display, "XAUTHORITY": str(xserver.xauthority)}


def test_check_reports_points_and_saves_a_marked_screenshot(
    xserver: XServer, windows: AgentWindows, tmp_path: Path
) -> None:
    config = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "On", "role": "qa", "input": [240, 480], "watch": [20, 40, 440, 380]},
            {"id": "Off", "role": "qa", "input": [2500, 300]},
        ],
    )
    shot = tmp_path / "points.png"
    result = run_cli(
        tmp_path / "home",
        "agents",
        "check",
        "--screenshot",
        str(shot),
        config=config,
        env=screen_env(xserver),
    )
    assert result.code == 1, result.err  # one point is off screen
    lines = dict(line.split(None, 1) for line in result.out.splitlines()[:2])
    assert lines["On"].startswith("window 0x") and '"Agent-1"' in lines["On"]  # its window
    assert "2500" in lines["Off"]
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (1920, 1080)
    as_json = json.loads(
        run_cli(
            tmp_path / "home", "agents", "check", "--json", config=config, env=screen_env(xserver)
        ).out
    )
    assert [(c["agent"], c["ok"]) for c in as_json] == [("On", True), ("Off", False)]


def test_calibrate_with_a_countdown_writes_the_pointer_position(
    xserver: XServer, tmp_path: Path
) -> None:
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "qa", "input": [1, 1]}, {"id": "B", "role": "web", "input": [2, 2]}],
    )
    xserver.xdotool("mousemove", "700", "333")
    result = run_cli(
        tmp_path / "home",
        "agents",
        "calibrate",
        "B",
        "--countdown",
        "0",
        config=config,
        env=screen_env(xserver),
    )
    assert result.code == 0, result.err
    points = {a.id: a.input for a in load_agents(config)}
    assert points == {"A": (1, 1), "B": (700, 333)}
    assert (tmp_path / "agents.toml.bak").exists()


def test_the_agents_file_swarm_writes_and_its_backup_are_0600(
    xserver: XServer, tmp_path: Path
) -> None:
    """Under umask 022, the copy of the bundled file and the rewrite with its .bak are the
    owner's alone, like every other file swarm makes (issue 41, item 8)."""
    old = os.umask(0o022)
    try:
        xserver.xdotool("mousemove", "700", "333")
        home = tmp_path / "home"
        result = run_cli(
            home, "agents", "calibrate", "Agent-2", "--points-only", "--countdown", "0",
            env=screen_env(xserver),
        )  # fmt: skip
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    config = home / "agents.toml"
    assert {a.id: a.input for a in load_agents(config)}["Agent-2"] == (700, 333)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in home.glob("agents.toml*")}
    assert modes == {"agents.toml": 0o600, "agents.toml.bak": 0o600}


def test_check_without_a_display_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "agents", "check")
    assert result.code == 2 and "no display to check against" in result.err


def test_check_of_inbox_agents_needs_no_display(tmp_path: Path) -> None:
    # issue 41, item 8: inbox agents have no window to look at; it said "DISPLAY is not set"
    config = tmp_path / "agents.toml"
    write_agents(
        config,
        [
            {"id": "Agent-1", "role": "dev", "delivery": "inbox"},
            {"id": "Agent-2", "role": "qa", "delivery": "inbox"},
        ],
    )
    result = run_cli(tmp_path / "home", "agents", "check", config=config)  # no DISPLAY
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.split("\n")[:2] == ["Agent-1      inbox", "Agent-2      inbox"]
    rows = json.loads(run_cli(tmp_path / "home", "agents", "check", "--json", config=config).out)
    assert [(r["agent"], r["ok"], r["delivery"]) for r in rows] == [
        ("Agent-1", True, "inbox"),
        ("Agent-2", True, "inbox"),
    ]
    shot = run_cli(
        tmp_path / "home", "agents", "check", "--screenshot", str(tmp_path / "s.png"), config=config
    )
    assert shot.code == 2 and "no display to check against" in shot.err  # a screenshot needs one
