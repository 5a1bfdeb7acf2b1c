"""The first-start offers settled by ``swarm desktop up`` (automation/first_start.py): each
CLI's documented setting written into the folder it starts in, a user's own choice left."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from automation.launch._first_start import settle
from core.clis import BY_NAME

OFFER = "Try the new fullscreen renderer?"


def test_claude_codes_fullscreen_offer_is_settled_beside_what_the_file_has(
    tmp_path: Path,
) -> None:
    local = tmp_path / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text('{"hooks": {"Stop": []}}', encoding="utf-8")
    assert settle("claude-code", tmp_path) == [f'{local}: tui = "default" settles "{OFFER}"']
    assert json.loads(local.read_text(encoding="utf-8")) == {
        "hooks": {"Stop": []},
        "tui": "default",
    }
    assert settle("claude-code", tmp_path) == []  # said already: nothing to do
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert len(settle("claude-code", fresh)) == 1
    assert json.loads((fresh / ".claude" / "settings.local.json").read_text()) == {"tui": "default"}


def test_a_users_own_choice_and_a_file_it_cannot_read_are_left_as_they_are(
    tmp_path: Path,
) -> None:
    local = tmp_path / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text('{"tui": "fullscreen"}', encoding="utf-8")
    assert settle("claude-code", tmp_path) == []
    assert json.loads(local.read_text(encoding="utf-8")) == {"tui": "fullscreen"}
    for bad in ("{not json", "[1, 2]"):
        local.write_text(bad, encoding="utf-8")
        (line,) = settle("claude-code", tmp_path)
        assert line.startswith(f"{local}: ") and "left as it is" in line and OFFER in line
        assert local.read_text(encoding="utf-8") == bad


def test_only_the_clis_with_a_first_start_setting_get_one(tmp_path: Path) -> None:
    assert [name for name, cli in BY_NAME.items() if cli.first_start] == ["claude-code"]
    for name in ("codex", "gemini", "aider", "opencode", None, "unknown"):
        assert settle(name, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(30)
def test_what_the_agent_planted_in_its_worktree_is_neither_followed_nor_waited_on(
    tmp_path: Path,
) -> None:
    """The folder is the agent's worktree, its to write. Before, swarm wrote the settings
    through a fixed spare name (``.settings.local.json.swarm-tmp``): an agent that linked
    that name to the person's ``~/.claude/settings.json`` had swarm write its own hooks
    there, outside its sandbox (found by an attack audit); a FIFO as the settings file held
    ``desktop up`` for good. Now no link is followed, none waited on, the person's file is
    untouched and the line says why."""
    person = tmp_path / "person-settings.json"
    person.write_text('{"person": true}\n', encoding="utf-8")
    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    local = work / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text('{"hooks": {"SessionStart": [{"command": "its own"}]}}', encoding="utf-8")
    (local.parent / ".settings.local.json.swarm-tmp").symlink_to(person)
    (line,) = settle("claude-code", work)
    assert line == f'{local}: tui = "default" settles "{OFFER}"'
    assert person.read_text(encoding="utf-8") == '{"person": true}\n'
    assert json.loads(local.read_text(encoding="utf-8"))["tui"] == "default"
    for planted in ("link", "fifo"):
        local.unlink()
        if planted == "link":
            local.symlink_to(person)
        else:
            os.mkfifo(local)
        (line,) = settle("claude-code", work)
        assert line.startswith(f"{local}: cannot be read") and "left as it is" in line, line
        assert person.read_text(encoding="utf-8") == '{"person": true}\n'
