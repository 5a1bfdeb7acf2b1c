"""Each agent CLI's keys (core/clis/) are an agent's defaults when the agents file does not
set them: the agent's ``cli`` key, else the CLI its ``[desktop]`` command starts; a key the
agents file sets wins. The reset commands are each pinned CLI's own (its help or docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents_file import load_agents
from tests.helpers import write_agents

EDIT = ("ctrl+e", "ctrl+u")  # end of line, delete to its start: editing keys in all five
KEYS = {  # cli: (reset, submit, clear)
    "claude-code": (("text:/clear", "enter"), "enter", EDIT),
    "codex": (("text:/clear", "enter"), "enter", EDIT),
    "gemini": (("text:/clear", "enter"), "enter", EDIT),
    "aider": (("text:/clear", "enter"), "enter", EDIT),
    "opencode": (("text:/new", "enter"), "enter", EDIT),
}


@pytest.mark.parametrize("cli", sorted(KEYS))
def test_an_agent_of_a_cli_gets_its_keys_unless_the_file_sets_them(
    tmp_path: Path, cli: str
) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [
            {"id": "A", "role": "dev", "cli": cli},
            {"id": "B", "role": "dev", "cli": cli, "tmux": "s:1", "delivery": "tmux"},
            {"id": "C", "role": "dev", "cli": cli, "reset": ["ctrl+l"], "submit": "ctrl+enter",
             "clear": ["ctrl+a", "delete"]},
        ],
    )  # fmt: skip
    a, b, c = load_agents(path)
    assert (a.reset, a.submit, a.clear) == KEYS[cli]
    assert (b.reset, b.submit, b.clear) == KEYS[cli]  # the terminal preset's, where it differs
    assert (c.reset, c.submit, c.clear) == (("ctrl+l",), "ctrl+enter", ("ctrl+a", "delete"))


def test_without_a_cli_key_the_desktop_command_says_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(
        '[[agent]]\nid = "A"\nrole = "dev"\n\n[[agent]]\nid = "B"\nrole = "dev"\n\n'
        '[[agent]]\nid = "C"\nrole = "dev"\ncli = "codex"\n\n'
        '[desktop]\ncommand = "env X=1 opencode"\n\n'
        '[desktop.agent.B]\ncommand = "/opt/bin/gemini --model m"\n',
        encoding="utf-8",
    )
    a, b, c = load_agents(path)
    assert a.reset == ("text:/new", "enter")  # opencode, the section's command
    assert b.reset == ("text:/clear", "enter")  # gemini, its own command
    assert c.reset == ("text:/clear", "enter")  # the cli key (codex) over the command


def test_an_agent_of_no_known_cli_keeps_its_apps_keys(tmp_path: Path) -> None:
    path = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev"}, {"id": "B", "role": "dev", "cli": "my-own-rules"}],
    )
    a, b = load_agents(path)
    assert (a.reset, a.clear) == (("ctrl+l",), ("ctrl+a", "delete"))  # the chat preset's
    assert (b.reset, b.clear) == (("ctrl+l",), ("ctrl+a", "delete"))
