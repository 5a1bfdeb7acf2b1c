"""Calibration: capture points with the real pointer and rewrite the agents file safely."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from automation.agents_file import dumps, write_input_points
from automation.calibrate import calibrate
from automation.virtual_desktop import XServer
from core.config import load_agents
from core.errors import NotFound
from core.settings import DEFAULT_CONFIG

ORIGINAL = """# My swarm: keep this comment.
# four windows, one comment line more

[[agent]]
id = "Agent-1"
role = "integration"  # the role
capabilities = ["python", "api"]
input = [1, 2]   # old point
watch = [20, 40, 440, 380]
capacity = 2

[[agent]]
id = "Agent-2"
role = "architecture"
capabilities = ["python"]
submit = "ctrl+enter"

[[agent]]
id = "Agent-3"
role = "files"
delivery = "inbox"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "agents.toml"
    path.write_text(ORIGINAL, encoding="utf-8")
    return path


def expected(points: dict[str, list[int]]) -> dict:
    data = tomllib.loads(ORIGINAL)
    for entry in data["agent"]:
        if entry["id"] in points:
            entry["input"] = points[entry["id"]]
    return data


def test_calibration_captures_hovered_points_and_keeps_the_rest(
    xserver: XServer, config: Path
) -> None:
    targets = iter([(300, 400), (1500, 900)])
    prompts: list[str] = []

    def hover_then_enter(prompt: str) -> str:
        prompts.append(prompt)
        x, y = next(targets)
        xserver.xdotool("mousemove", str(x), str(y))
        return ""

    inode = config.stat().st_ino
    points = calibrate(config, ["Agent-1", "agent-2"], ask=hover_then_enter, say=lambda _: None)
    assert points == {"Agent-1": (300, 400), "Agent-2": (1500, 900)}
    assert "Agent-1" in prompts[0] and "Agent-2" in prompts[1]
    text = config.read_text(encoding="utf-8")
    assert tomllib.loads(text) == expected({"Agent-1": [300, 400], "Agent-2": [1500, 900]})
    assert text.startswith("# My swarm: keep this comment.\n")
    assert "input = [300, 400]   # old point\n" in text and "# the role" in text
    assert config.with_name("agents.toml.bak").read_text(encoding="utf-8") == ORIGINAL
    assert config.stat().st_ino != inode  # replaced in one step, not rewritten in place
    assert sorted(p.name for p in config.parent.iterdir()) == ["agents.toml", "agents.toml.bak"]
    assert load_agents(config)[1].input == (1500, 900)


def test_calibration_by_countdown_adds_a_missing_point(xserver: XServer, config: Path) -> None:
    xserver.xdotool("mousemove", "700", "800")
    said: list[str] = []
    points = calibrate(config, ["Agent-3"], ask=None, countdown=0.05, say=said.append)
    assert points == {"Agent-3": (700, 800)}
    assert any("0.05 s" in line for line in said)
    assert tomllib.loads(config.read_text(encoding="utf-8")) == expected({"Agent-3": [700, 800]})
    assert load_agents(config)[2].input == (700, 800)


def test_an_unknown_agent_changes_nothing(config: Path) -> None:
    with pytest.raises(NotFound, match="Agent-9"):
        write_input_points(config, {"Agent-9": (1, 1)})
    assert config.read_text(encoding="utf-8") == ORIGINAL
    assert not config.with_name("agents.toml.bak").exists()


def test_an_unusual_layout_is_rewritten_whole(tmp_path: Path) -> None:
    path = tmp_path / "odd.toml"
    odd = '[[agent]]\nid = "A"\nrole = "r"\ninput = [\n  1,\n  2,\n]\nwatch = [0, 0, 5, 5]\n'
    path.write_text(odd, encoding="utf-8")
    write_input_points(path, {"A": (5, 6)})
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data == {"agent": [{"id": "A", "role": "r", "input": [5, 6], "watch": [0, 0, 5, 5]}]}
    assert path.with_name("odd.toml.bak").read_text(encoding="utf-8") == odd


def test_the_writer_round_trips_the_project_config() -> None:
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    text = dumps({"name": 'quote " and \\ ✓', "nested": {"on": True, "ratio": 0.5}, **data})
    assert tomllib.loads(text) == {
        "name": 'quote " and \\ ✓',
        "nested": {"on": True, "ratio": 0.5},
        **data,
    }
