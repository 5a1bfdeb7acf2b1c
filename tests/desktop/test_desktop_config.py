"""The ``[desktop]`` section, the agents file's new keys, the grid and the plan (no display)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.agents_file_writer import write_agent_values
from automation.desktop.screen import Rect
from automation.desktop.session import grid, plan
from automation.launch._config import default_resume, load_desktop, parse_desktop, parse_layout
from core.agents_file import load_agents
from core.errors import ConfigError, InvalidInput

AGENTS = """\
# my team
[desktop]
command = "claude --model opus"
layout = "2x2"

[desktop.agent.B]
command = "codex"
terminal = "urxvt"

[[agent]]
id = "A"
role = "coder"  # the first
tmux = "swarm-A:0"

[[agent]]
id = "B"
role = "qa"
"""


def test_the_agents_file_accepts_a_desktop_section_and_a_tmux_key(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(AGENTS, encoding="utf-8")
    assert [agent.id for agent in load_agents(path)] == ["A", "B"]


def test_desktop_section_defaults_and_per_agent_overrides(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(AGENTS, encoding="utf-8")
    config = load_desktop(path, ["A", "B"])
    assert config.layout == (2, 2) and config.monitor == 0
    a, b = config.launches["A"], config.launches["B"]
    assert (a.kind, a.command, a.terminal) == ("terminal", "claude --model opus", "xterm")
    assert a.resume == "claude --model opus --continue"
    assert (b.command, b.resume, b.terminal) == ("codex", "codex resume --last", "urxvt")


def test_a_protocol_agents_cli_runs_nice_10_unless_the_section_or_agent_says(
    tmp_path: Path,
) -> None:
    assert {a: x.nice for a, x in parse_desktop({}, ["A"], "[desktop]").launches.items()} == {
        "A": 10
    }
    section = {"nice": 5, "agent": {"B": {"nice": 0}}}
    launches = parse_desktop(section, ["A", "B"], "[desktop]").launches
    assert (launches["A"].nice, launches["B"].nice) == (5, 0)


def test_no_desktop_section_means_claude_in_xterm_on_4x2(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text('[[agent]]\nid = "A"\nrole = "r"\n', encoding="utf-8")
    config = load_desktop(path, ["A"])
    assert config.layout == (4, 2) and config.cells == 8
    assert config.launches["A"].command == "claude"
    assert config.launches["A"].resume == "claude --continue"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"kind": "window"}, "kind must be one of terminal, gui"),
        ({"terminal": "xterminal"}, "terminal must be one of xterm"),
        ({"layout": "4by2"}, "layout must be COLUMNSxROWS"),
        ({"monitor": -1}, "monitor must be a whole number"),
        ({"command": ""}, "command must be a one-line, non-empty string"),
        ({"command": "claude 'unclosed"}, "command is not a valid command line"),
        ({"command": "run {who}"}, "may use only {agent} and {workspace}"),
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"agent": {"Z": {"kind": "gui"}}}, "[desktop.agent.Z] names no agent"),
        ({"agent": {"A": {"kind": "gui"}}}, "a gui agent needs app = NAME"),
        ({"agent": {"A": {"size": 3}}}, "agent.A: unknown key(s) size"),
        ({"nice": 20}, "[desktop]: nice must be a whole number from 0 to 19, not 20"),
        ({"nice": -1}, "nice must be a whole number from 0 to 19"),
        ({"nice": True}, "nice must be a whole number from 0 to 19"),
        ({"agent": {"A": {"nice": "10"}}}, "agent.A: nice must be a whole number"),
    ],
)
def test_bad_desktop_settings_are_one_line_errors(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_desktop(section, ["A"], "[desktop]")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_resume_commands_of_known_agent_clis() -> None:
    assert default_resume("claude") == "claude --continue"
    assert (
        default_resume("/opt/bin/aider --model x")
        == "/opt/bin/aider --model x --restore-chat-history"
    )
    assert default_resume("codex --full-auto") == "codex resume --last --full-auto"
    assert default_resume("my-agent --fast") == "my-agent --fast"
    assert parse_layout(" 3x1 ") == (3, 1)


def test_grid_cells_on_the_second_monitor() -> None:
    cells = grid(Rect(1920, 0, 1280, 1024), (2, 2))
    assert cells == [
        Rect(1920, 0, 640, 512),
        Rect(2560, 0, 640, 512),
        Rect(1920, 512, 640, 512),
        Rect(2560, 512, 640, 512),
    ]


def test_plan_refuses_what_does_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(AGENTS, encoding="utf-8")
    agents = load_agents(path)
    config = load_desktop(path, ["A", "B"])
    screens = [Rect(0, 0, 1920, 1080)]
    planned = plan(
        agents, config, screens, lambda a: tmp_path if a == "A" else None, None, Path("/x")
    )
    assert [(p.agent, p.workspace) for p in planned] == [("A", tmp_path), ("B", Path("/x"))]
    with pytest.raises(InvalidInput, match="--agents must be from 1 to 2"):
        plan(agents, config, screens, lambda a: None, 3)
    from dataclasses import replace

    with pytest.raises(InvalidInput, match="do not fit a 1x1 layout"):
        plan(agents, replace(config, layout=(1, 1)), screens, lambda a: None)
    with pytest.raises(InvalidInput, match="monitor 1 does not exist"):
        plan(agents, replace(config, monitor=1), screens, lambda a: None)


def test_text_values_are_written_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(AGENTS.replace('role = "qa"', "role = \"qa\"\napp = 'chat'  # was"), "utf-8")
    write_agent_values(
        path,
        {
            "A": {"app": "terminal", "input": [5, 6], "tmux": "swarm-A:1"},
            "B": {"app": "terminal", "paste": "shift+insert"},
        },
    )
    text = path.read_text(encoding="utf-8")
    assert "# my team" in text and 'role = "coder"  # the first' in text
    assert 'app = "terminal"  # was' in text
    a, b = load_agents(path)
    assert (a.app, a.input, b.app, b.paste) == ("terminal", (5, 6), "terminal", "shift+insert")
    assert 'tmux = "swarm-A:1"' in text and text.count("tmux =") == 1


def test_up_without_a_display_says_so_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARM_", "DISPLAY"))}
    env |= {"SWARM_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "bot.cli", "desktop", "up"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=root)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == "swarm: error: no display to open windows on: DISPLAY is not set\n"
    assert done.stdout == ""
    assert not (tmp_path / "home").exists()


USER_CONFIG = """\
lease = 300
[desktop]
terminal = "kitty"
command = "codex"
layout = "3x1"

[desktop.agent.A]
command = "aider"
terminal = "alacritty"
"""


def test_the_user_configs_desktop_section_lies_under_the_agents_files(tmp_path: Path) -> None:
    from bot.config import Config

    path = tmp_path / "agents.toml"
    path.write_text(AGENTS, encoding="utf-8")
    user_file = tmp_path / "config.toml"
    user_file.write_text(USER_CONFIG, encoding="utf-8")
    loaded = Config.load(agents_file=path, user_file=user_file)
    assert loaded.env["SWARM_LEASE"] == "300"  # the settings beside the table still read
    config = load_desktop(path, ["A", "B"], loaded.user_tables["desktop"])
    a, b = config.launches["A"], config.launches["B"]
    assert config.layout == (2, 2)  # the agents file's own key wins
    # A: its user-config command and terminal (the agents file says nothing of A)
    assert (a.command, a.terminal) == ("aider", "alacritty")
    # B: the agents file's per-agent keys win over the user config's defaults
    assert (b.command, b.terminal) == ("codex", "urxvt")


def test_a_bad_user_config_desktop_section_is_one_line_and_opens_nothing(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    path = tmp_path / "agents.toml"
    path.write_text('[[agent]]\nid = "A"\nrole = "r"\n', encoding="utf-8")
    xdg = tmp_path / "xdg"
    (xdg / "swarm").mkdir(parents=True)
    user_file = xdg / "swarm" / "config.toml"
    user_file.write_text('[desktop]\nlayout = "huge"\n', encoding="utf-8")
    env = {"XDG_CONFIG_HOME": str(xdg)}
    done = run_cli(tmp_path / "home", "desktop", "up", config=path, env=env)
    assert done.code != 0 and not (tmp_path / "home").exists()
    assert "with the user config's" in done.err and "layout must be COLUMNSxROWS" in done.err
    assert len(done.err.strip().splitlines()) == 1, done.err
    user_file.write_text('desktop = "xterm"\n', encoding="utf-8")
    done = run_cli(tmp_path / "home", "desktop", "up", config=path, env=env)
    assert done.code != 0 and "desktop must be a table" in done.err, done.err
