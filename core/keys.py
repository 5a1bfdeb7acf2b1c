"""Key combinations of the agents file (``"ctrl+shift+v"``) and the application presets.

Checked when the agents file is loaded, so a misspelt key is an error at start-up that names
the agent, never a failure at the first delivery. The names are PyAutoGUI's (a test holds
the two lists together).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

MODIFIERS = frozenset(
    {
        "ctrl",
        "shift",
        "alt",
        "altleft",
        "altright",
        "win",
        "winleft",
        "winright",
        "ctrlleft",
        "ctrlright",
        "shiftleft",
        "shiftright",
    }
)
NAMED_KEYS = frozenset(
    {
        "enter",
        "return",
        "tab",
        "space",
        "backspace",
        "delete",
        "del",
        "escape",
        "esc",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
    }
    | {f"f{n}" for n in range(1, 25)}
)
ALIASES = {"control": "ctrl", "return": "enter", "del": "delete", "esc": "escape"}
CHARACTERS = frozenset(string.ascii_lowercase + string.digits + "`-=[]\\;',./")
TEXT_STEP = "text:"  # a reset step typed as text (``"text:/clear"``), not pressed as keys


@dataclass(frozen=True)
class AppPreset:
    """How one kind of application is cleared, pasted into and submitted."""

    clear: tuple[str, ...]
    paste: str
    submit: str
    set_primary: bool  # also put the text in the PRIMARY selection (Shift+Insert, middle click)
    reset: tuple[str, ...]  # steps that clear the agent's conversation (keys or text:...)


PRESETS = {
    # Cursor, VS Code, Windsurf: Electron/Chromium text inputs.
    "chat": AppPreset(
        ("ctrl+a", "delete"), "ctrl+v", "enter", set_primary=False, reset=("ctrl+l",)
    ),
    # Claude Code, Codex CLI, Aider, Gemini CLI in a terminal (readline-like line editing).
    "terminal": AppPreset(
        ("ctrl+e", "ctrl+u"),
        "ctrl+shift+v",
        "enter",
        set_primary=True,
        reset=(f"{TEXT_STEP}/clear", "enter"),
    ),
}


class KeyComboError(ValueError):
    """A key combination that cannot be pressed (the message says why)."""


def parse_combo(combo: str) -> tuple[str, ...]:
    """``"Ctrl+Shift+V"`` -> ``("ctrl", "shift", "v")``; KeyComboError when a name is unknown."""
    if not isinstance(combo, str) or not combo.strip():
        raise KeyComboError("a key combination must be a non-empty string")
    parts = [part.strip().lower() for part in combo.split("+")]
    if not all(parts):
        raise KeyComboError(f"{combo!r} has an empty key name")
    keys = tuple(ALIASES.get(part, part) for part in parts)
    for key in keys:
        if key not in MODIFIERS and key not in NAMED_KEYS and key not in CHARACTERS:
            raise KeyComboError(f"unknown key {key!r} in {combo!r}")
    if keys[-1] in MODIFIERS:
        raise KeyComboError(f"{combo!r} has no key besides modifiers")
    return keys
