"""The first-start offers settled by ``swarm desktop up`` (automation/first_start.py): each
CLI's documented setting written into the folder it starts in, a user's own choice left."""

from __future__ import annotations

import json
from pathlib import Path

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
