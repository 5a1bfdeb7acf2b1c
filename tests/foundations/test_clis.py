"""The agent CLIs swarm knows (core/clis): one folder each, each with its rule file and
saved real panes; the command line that starts one names it."""

from __future__ import annotations

import pytest

from automation.launch._config import default_resume
from core.agents._text_rules import bundled_rule_files
from core.clis import CLIS, by_name, for_command, panes, with_launch_args
from tests.helpers import ROOT
from tools.install_agents import PINS


def test_every_cli_has_its_rule_file_its_real_panes_and_a_pin() -> None:
    """Adding a CLI is one folder with its rule file and panes: none may be missing."""
    assert set(bundled_rule_files()) == {cli.rule_file for cli in CLIS}
    for cli in CLIS:
        assert cli.rule_file.parent == cli.folder == ROOT / "core" / "clis" / cli.folder.name
        assert cli.rule_file.is_file(), f"{cli.name}: no rule file"
        real = list(panes(cli.name).glob(f"{cli.name}-*.txt"))
        assert real, f"{cli.name}: no saved real pane"
        assert cli.name in {pin.cli for pin in PINS}, f"{cli.name}: not pinned"
        assert by_name(cli.name) is cli


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("claude", "claude-code"),
        ("claude --model opus", "claude-code"),
        ("/opt/bin/codex --search", "codex"),
        ("env GEMINI_API_KEY=x gemini", "gemini"),
        ("FOO=1 aider --no-git", "aider"),
        ("opencode", "opencode"),
        ("vim", None),
        ("claude-wrapper", None),
        ('"unterminated', None),
        ("env", None),
    ],
)
def test_a_command_line_names_its_cli(command: str, name: str | None) -> None:
    found = for_command(command)
    assert (found.name if found else None) == name


@pytest.mark.parametrize(
    ("command", "resume"),
    [
        ("claude", "claude --continue"),
        ("aider --model x", "aider --model x --restore-chat-history"),
        ("codex --search", "codex resume --last --search"),
        ("env A=1 codex", "env A=1 codex resume --last"),
        ("gemini", "gemini"),
        ("my-agent", "my-agent"),
    ],
)
def test_each_cli_resumes_its_own_way(command: str, resume: str) -> None:
    assert default_resume(command) == resume


@pytest.mark.parametrize(
    ("command", "started"),
    [
        ("codex", "codex -c features.daemon_auto_start=false"),
        ("codex resume --last", "codex -c features.daemon_auto_start=false resume --last"),
        ("env A=1 codex --search", "env A=1 codex -c features.daemon_auto_start=false --search"),
        ("codex -c features.daemon_auto_start=false", "codex -c features.daemon_auto_start=false"),
        ("claude --continue", "claude --continue"),
        ("my-agent", "my-agent"),
    ],
)
def test_desktop_up_starts_codex_without_its_background_server(command: str, started: str) -> None:
    """Codex 0.169 leaves a ``codex app-server`` daemon running after its session ends
    unless ``features.daemon_auto_start`` is off (measured: with the option, none)."""
    assert with_launch_args(command) == started
