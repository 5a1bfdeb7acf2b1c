"""Codex CLI's hooks: swarm's command in ``.codex/hooks.json`` (Codex's own hooks, in Claude
Code's format and with its JSON on stdin: ``core.clis.claude_code.hooks`` reads them), and
the ``notify`` line an older swarm put in ``.codex/config.toml`` taken out (Codex 0.169
ignores a project's ``notify``; its JSON, ``"type": "agent-turn-complete"``, is still read).
Codex asks the person once to review new hooks before they run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.agent_state import AgentState
from core.clis import hook_files
from core.clis.base import HookFiles, HookReading
from core.clis.hook_files import Change

HOOKS_FILE = Path(".codex") / "hooks.json"
CONFIG_FILE = Path(".codex") / "config.toml"
NOTIFY_MARK = "# swarm agent state (swarm agents hooks install)"  # an older swarm's notify line
# Codex CLI's hook events swarm listens to (its permission dialog is read on its pane)
EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "Stop")
TURN_COMPLETE = "agent-turn-complete"  # its notify program's JSON (the last argument)
NOTE = (
    "Codex CLI runs the hooks of .codex/hooks.json in a trusted project after you review them "
    'once: at its next start it shows "Hooks need review"; accept them there'
)


def install(home: Path, folder: Path, command: str, wait_s: float = 0.0) -> list[Change]:
    """swarm's hook in ``folder``'s ``.codex/hooks.json`` (the user's hooks kept), and the
    ``notify`` line of an older swarm taken out."""
    changes = [hook_files.install_json(home, folder / HOOKS_FILE, command, EVENTS, 0.0)]
    old = _remove_notify(home, folder)
    return changes + ([old] if old.what in ("removed", "restored") else [])


def remove(home: Path, folder: Path) -> list[Change]:
    """Take swarm's hooks out of ``folder``'s Codex CLI files (hooks.json, and the
    ``notify`` line of an older swarm)."""
    changes = [hook_files.remove_json(home, folder / HOOKS_FILE)]
    old = _remove_notify(home, folder)
    return changes + ([old] if old.what in ("removed", "restored") else [])


def _remove_notify(home: Path, folder: Path) -> Change:
    """Take the ``notify`` line an older swarm wrote out of ``folder``'s Codex config."""
    path = folder / CONFIG_FILE
    current = hook_files.read_for_remove(path, lambda text: hook_files.restore(home, path, text))
    if isinstance(current, Change):
        return current
    lines = current.splitlines(keepends=True)
    kept = [line for line in lines if not line.rstrip().endswith(NOTIFY_MARK)]
    if len(kept) == len(lines):
        return Change(path, "not installed")
    hook_files.write_text(path, "".join(kept))
    return Change(path, "removed")


def has_notify(path: Path, text: str) -> bool:
    """Whether a Codex config's ``text`` holds an older swarm's ``notify`` line."""
    return NOTIFY_MARK in text


def read(payload: Mapping[str, Any]) -> HookReading | None:
    """Its notify program's turn complete (None: not that JSON)."""
    if payload.get("type") != TURN_COMPLETE:
        return None
    return HookReading(TURN_COMPLETE, AgentState.IDLE, "hook: Codex agent-turn-complete", True)


HOOKS = HookFiles(files=(HOOKS_FILE,), install=install, remove=remove, read=read, note=NOTE)
