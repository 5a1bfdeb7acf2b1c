"""The agents file: the bundled default, and clear errors for every broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents_file import load_agents
from core.errors import ConfigError
from core.settings import Settings, bundled_agents_file
from tests.helpers import run_cli, write_agents

ROLES = [
    "integration",
    "architecture",
    "infrastructure",
    "qa",
    "data",
    "coordination",
    "web",
    "operations",
]


def test_default_layout_is_eight_agents_in_a_4x2_grid() -> None:
    agents = load_agents(bundled_agents_file())
    assert [a.id for a in agents] == [f"Agent-{i}" for i in range(1, 9)]
    assert [a.role for a in agents] == ROLES
    points = [a.input for a in agents]
    assert all(p is not None and 0 <= p[0] < 1920 and 0 <= p[1] < 1080 for p in points)
    assert len({p[0] for p in points if p}) == 4 and len({p[1] for p in points if p}) == 2
    assert all(a.watch is not None and a.capabilities for a in agents)


BROKEN = [
    ("[[agent]]\nid = 'A'\n", "role must be a non-empty string"),
    ("nonsense = [", "is not valid TOML"),
    ("# nothing but a comment\n", "defines no agents"),
    ("title = 'no agents'\n", "unknown top-level key(s) title"),
    ("[[agnet]]\nid='A'\nrole='qa'\n", "unknown top-level key(s) agnet"),
    (
        "[[agent]]\nid='Agent-1'\nrole='qa'\n[[agent]]\nid='agent-1'\nrole='web'\n",
        "agent ids Agent-1 and agent-1 differ only in case",
    ),
    ("[[agent]]\nid='a/b'\nrole='qa'\n", "id 'a/b' must be 1-64 letters"),
    ('[[agent]]\nid="A\\nB"\nrole="qa"\n', "id 'A\\nB' must be"),
    ("[[agent]]\nid='.hidden'\nrole='qa'\n", "must be 1-64 letters"),
    ("[[agent]]\nid='A'\nrole='qa'\nsubmit='entr'\n", "agent A: submit: unknown key 'entr'"),
    ("[[agent]]\nid='A'\nrole='qa'\nsubmit='ctrl+'\n", "submit: 'ctrl+' has an empty key"),
    ("[[agent]]\nid='A'\nrole='qa'\nsubmit='ctrl'\n", "no key besides modifiers"),
    ("[[agent]]\nid='A'\nrole='qa'\npaste='ctrl+shift+vv'\n", "paste: unknown key 'vv'"),
    ("[[agent]]\nid='A'\nrole='qa'\nclear='ctrl+a'\n", "clear must be a list"),
    ("[[agent]]\nid='A'\nrole='qa'\nclear=['ctrl+a', 'supr']\n", "clear: unknown key 'supr'"),
    ("[[agent]]\nid='A'\nrole='qa'\napp='emacs'\n", "app must be one of chat, terminal"),
    ("[[agent]]\nid='A'\nrole='qa'\ninput_box=[0,0,5]\n", "input_box must be a list of 4"),
    ("[[agent]]\nid='A'\nrole='qa'\ninput_box=[0,0,5,0]\n", "input_box width and height"),
    ("[[agent]]\nid='A'\nrole='qa'\ninput=[1]\n", "input must be a list of 2 whole numbers"),
    ("[[agent]]\nid='A'\nrole='qa'\nwatch=[0,0,0,5]\n", "width and height must be positive"),
    ("[[agent]]\nid='A'\nrole='qa'\ncolour='red'\n", "unknown key(s) colour"),
    ("[[agent]]\nid='A'\nrole='qa'\n[[agent]]\nid='A'\nrole='web'\n", "appears twice"),
    ("[[agent]]\nid='A'\nrole='qa'\ndelivery='pigeon'\n", "delivery must be one of"),
    ("[[agent]]\nid='A'\nrole='qa'\ncapacity=0\n", "capacity must be"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_invalid_file_names_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_agents(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_application_presets_and_overrides(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "a.toml",
        [
            {"id": "Chat", "role": "qa", "input": [100, 100], "watch": [0, 0, 400, 300]},
            {
                "id": "Term",
                "role": "qa",
                "app": "terminal",
                "input": [500, 500],
                "input_box": [400, 400, 300, 200],
                "submit": "Ctrl+Return",
            },
            {
                "id": "Mine",
                "role": "qa",
                "app": "terminal",
                "paste": "shift+insert",
                "clear": ["escape", "ctrl+u"],
                "input": [10, 900],
                "watch": [0, 0, 400, 300],
            },
        ],
    )
    chat, term, mine = load_agents(path)
    assert (chat.clear, chat.paste, chat.submit, chat.set_primary) == (
        ("ctrl+a", "delete"),
        "ctrl+v",
        "enter",
        False,
    )
    assert chat.input_box == (0, 0, 400, 300)  # the watch region holds the input point
    assert (term.clear, term.paste, term.submit, term.set_primary) == (
        ("ctrl+e", "ctrl+u"),
        "ctrl+shift+v",
        "ctrl+enter",
        True,
    )
    assert term.input_box == (400, 400, 300, 200)
    assert (mine.clear, mine.paste) == (("escape", "ctrl+u"), "shift+insert")
    assert mine.input_box is None  # the watch region is elsewhere: a box around the point


def test_negative_coordinates_are_allowed(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "a.toml",
        [{"id": "Left", "role": "qa", "input": [-1680, 300], "watch": [-1900, 0, 400, 300]}],
    )
    assert load_agents(path)[0].input == (-1680, 300)


def test_missing_file_is_a_clear_cli_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = run_cli(tmp_path / "home", "agents", config=missing)
    assert result.code == 2
    assert result.err.strip() == (
        f"swarm: error: agents file {missing} does not exist (set SWARM_CONFIG or --config)"
    )


def test_config_resolution_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert Settings.from_env({"SWARM_HOME": str(home)}).config_path == bundled_agents_file()
    home.mkdir()
    (home / "agents.toml").write_text("")
    assert Settings.from_env({"SWARM_HOME": str(home)}).config_path == home / "agents.toml"
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": "/x.toml"}
    assert Settings.from_env(env).config_path == Path("/x.toml")
    assert Settings.from_env(env, config="/y.toml").config_path == Path("/y.toml")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SWARM_LEASE", "soon", "SWARM_LEASE must be a number of seconds"),
        ("SWARM_LEASE", "-1", "must be more than 0"),
        ("SWARM_MAX_ATTEMPTS", "2.5", "SWARM_MAX_ATTEMPTS must be a whole number"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"SWARM_HOME": str(tmp_path), name: value})
