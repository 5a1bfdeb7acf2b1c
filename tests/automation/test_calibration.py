"""Calibration: capture points with the real pointer and rewrite the agents file safely."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from automation.agents_file_writer import dumps, write_agent_values
from automation.desktop.calibrate import AgentCapture, calibrate, overlap_problems
from automation.desktop.virtual_desktop import XServer
from core.agents_file import load_agents
from core.errors import InvalidInput, InvalidState, NotFound
from core.models import Agent
from core.settings import bundled_agents_file

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
    points = calibrate(
        config, ["Agent-1", "agent-2"], ask=hover_then_enter, say=lambda _: None, with_box=False
    )
    assert points == {"Agent-1": AgentCapture((300, 400)), "Agent-2": AgentCapture((1500, 900))}
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
    points = calibrate(
        config, ["Agent-3"], ask=None, countdown=0.05, say=said.append, with_box=False
    )
    assert points == {"Agent-3": AgentCapture((700, 800))}
    assert any("0.05 s" in line for line in said)
    assert tomllib.loads(config.read_text(encoding="utf-8")) == expected({"Agent-3": [700, 800]})
    assert load_agents(config)[2].input == (700, 800)


def test_calibration_captures_the_input_box_from_two_corners(
    xserver: XServer, config: Path
) -> None:
    targets = iter([(300, 400), (500, 450), (100, 300)])  # point, then corners in any order

    def hover_then_enter(_prompt: str) -> str:
        x, y = next(targets)
        xserver.xdotool("mousemove", str(x), str(y))
        return ""

    points = calibrate(config, ["Agent-1"], ask=hover_then_enter, say=lambda _: None)
    assert points == {"Agent-1": AgentCapture((300, 400), (100, 300, 401, 151))}
    agent = load_agents(config)[0]
    assert (agent.input, agent.input_box) == ((300, 400), (100, 300, 401, 151))
    assert "# old point" in config.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("stop", "error"),
    [
        (KeyboardInterrupt, "stopped (Ctrl+C): nothing written"),
        (EOFError, "standard input closed: nothing written"),
    ],
)
def test_ctrl_c_or_closed_input_writes_nothing(
    xserver: XServer, config: Path, stop: type[BaseException], error: str
) -> None:
    answers = iter(["", ""])

    def ask(_prompt: str) -> str:
        try:
            return next(answers)  # the first agent's point and one corner, then the stop
        except StopIteration:
            raise stop() from None

    with pytest.raises((InvalidState, InvalidInput), match=re.escape(error)):
        calibrate(config, ["Agent-1", "Agent-2"], ask=ask, say=lambda _: None)
    assert config.read_text(encoding="utf-8") == ORIGINAL
    assert sorted(p.name for p in config.parent.iterdir()) == ["agents.toml"]


def test_a_shared_point_is_flagged_and_must_be_confirmed(xserver: XServer, config: Path) -> None:
    xserver.xdotool("mousemove", "640", "480")
    said: list[str] = []
    answers = iter(["", "", "n"])  # Enter for each agent's point, then "n" to the question
    with pytest.raises(InvalidState, match="not saved"):
        calibrate(
            config,
            ["Agent-1", "Agent-2"],
            ask=lambda _p: next(answers),
            say=said.append,
            with_box=False,
        )
    assert "warning: Agent-1 and Agent-2 share the input point [640, 480]" in said
    assert config.read_text(encoding="utf-8") == ORIGINAL


def test_a_point_inside_another_agents_box_is_flagged() -> None:
    agents = [
        Agent(id="A", role="r", input=(10, 10), input_box=(0, 0, 100, 50)),
        Agent(id="B", role="r", input=(500, 500)),
    ]
    problems = overlap_problems(agents, {"B": AgentCapture((20, 20))})
    assert problems == ["B's input point [20, 20] is inside A's input box [0, 0, 100, 50]"]


def test_ctrl_c_stops_the_cli_at_once_with_nothing_written(tmp_path: Path, config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {"SWARM_HOME": str(tmp_path / "home"), "SWARM_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "agents", "calibrate"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    line = ""
    deadline = time.monotonic() + 20
    while "Hover" not in line and time.monotonic() < deadline:  # waiting at the first question
        line += os.read(proc.stdout.fileno(), 4096).decode()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2, err
    assert err.strip().splitlines() == [
        "swarm: error: calibration stopped (Ctrl+C): nothing written"
    ]
    assert config.read_text(encoding="utf-8") == ORIGINAL


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
    data = tomllib.loads(bundled_agents_file().read_text(encoding="utf-8"))
    text = dumps({"name": 'quote " and \\ ✓', "nested": {"on": True, "ratio": 0.5}, **data})
    assert tomllib.loads(text) == {
        "name": 'quote " and \\ ✓',
        "nested": {"on": True, "ratio": 0.5},
        **data,
    }


def write_input_points(path: Path, points: dict[str, tuple[int, int]]) -> Path:
    """Set ``input = [x, y]`` of the named agents in ``path``; the backup's path."""
    return write_agent_values(
        path, {a: {"input": [int(x), int(y)]} for a, (x, y) in points.items()}
    )
