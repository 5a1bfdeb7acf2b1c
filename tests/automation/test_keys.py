"""The key names the agents file accepts are the ones PyAutoGUI can press."""

from __future__ import annotations

import gc

import pytest

from automation.desktop.gui import load_pyautogui, parse_keys
from automation.desktop.virtual_desktop import XServer
from core.keys import CHARACTERS, MODIFIERS, NAMED_KEYS, PRESETS, KeyComboError, parse_combo


def test_every_accepted_key_name_is_a_pyautogui_key(xserver: XServer) -> None:
    pyautogui = load_pyautogui()
    names = sorted(MODIFIERS | NAMED_KEYS | CHARACTERS)
    assert [name for name in names if not pyautogui.isValidKey(name)] == []


def test_pyautogui_loaded_again_collects_no_garbage(
    xserver: XServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each driver loads PyAutoGUI: only its first import leaves garbage to collect (a full
    collection of a large process is tens of ms, once per driver and pointer read before)."""
    load_pyautogui()
    collections: list[tuple[object, ...]] = []

    def collect(*args: object) -> int:
        collections.append(args)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    assert load_pyautogui().PAUSE == 0
    assert collections == []


def test_presets_and_their_keys_parse_the_same_in_core_and_the_driver() -> None:
    for preset in PRESETS.values():
        for combo in (*preset.clear, preset.paste, preset.submit):
            assert list(parse_combo(combo)) == parse_keys(combo)


@pytest.mark.parametrize(
    ("combo", "keys"),
    [
        ("Ctrl+Shift+V", ("ctrl", "shift", "v")),
        ("control+return", ("ctrl", "enter")),
        ("shift+insert", ("shift", "insert")),
        ("ctrl+/", ("ctrl", "/")),
        ("F5", ("f5",)),
    ],
)
def test_combinations_are_read_in_any_case_with_aliases(combo: str, keys: tuple[str, ...]) -> None:
    assert parse_combo(combo) == keys


@pytest.mark.parametrize(
    ("combo", "problem"),
    [
        ("", "non-empty"),
        ("ctrl+", "empty key name"),
        ("shift", "no key besides modifiers"),
        ("ctrl+enterr", "unknown key 'enterr'"),
        ("ctrl+V+", "empty key name"),
    ],
)
def test_bad_combinations_say_what_is_wrong(combo: str, problem: str) -> None:
    with pytest.raises(KeyComboError, match=problem):
        parse_combo(combo)
