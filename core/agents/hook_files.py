"""swarm's hooks in an agent's workspace: Claude Code's ``.claude/settings.local.json`` and
Codex CLI's ``.codex/hooks.json`` (the same format), merged with the user's own.

Install is idempotent (ours are taken out, then put in once) and keeps every hook of the
user's. Remove takes only ours out; when the file is still exactly what install wrote, the
file as it was before install comes back byte for byte (kept under
``$SWARM_HOME/hooks-backup/``), else ours are taken out of the file as it is now.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidState
from core.privacy.files import make_dirs, write_file

CLAUDE_FILE = Path(".claude") / "settings.local.json"
CODEX_FILE = Path(".codex") / "config.toml"
BACKUPS = "hooks-backup"
CODEX_HOOKS_FILE = Path(".codex") / "hooks.json"
CODEX_MARK = "# swarm agent state (swarm agents hooks install)"  # an older swarm's notify line
# Codex CLI's hook events swarm listens to (its permission dialog is read on its pane)
CODEX_EVENTS = ("SessionStart", "UserPromptSubmit", "PreToolUse", "Stop")
# Claude Code's events swarm listens to; the tool events match every tool.
EVENTS = (
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    "StopFailure",  # Claude Code 2.1: the turn ended by an API error (a rate limit, a 500)
    "SubagentStop",
    "SessionEnd",
)
WITH_MATCHER = frozenset({"PreToolUse", "PermissionRequest"})
HOOK_TIMEOUT_S = 10  # Claude Code stops a hook after this; the PermissionRequest one waits longer
_OURS = re.compile(r"((^|[\s/'\"])swarm['\"]? hook|-m bot\.cli\.hook) --agent ")


@dataclass(frozen=True)
class Change:
    """What one install or remove did to one file."""

    path: Path
    what: str  # "added", "already installed", "removed", "restored", "not installed", "kept"


def is_ours(command: object) -> bool:
    """True for a hook command that runs ``swarm hook --agent`` (or its faster start,
    ``python -m bot.cli.hook --agent``)."""
    return isinstance(command, str) and _OURS.search(command) is not None


def install_claude(home: Path, folder: Path, command: str, wait_s: float) -> Change:
    """Merge swarm's hooks into ``folder``'s Claude Code settings (the user's are kept)."""
    return _install_json(home, folder / CLAUDE_FILE, command, EVENTS, wait_s)


def _install_json(
    home: Path, path: Path, command: str, events: Sequence[str], wait_s: float
) -> Change:
    """Merge swarm's hook for each of ``events`` into the Claude-format hooks file ``path``
    (Claude Code's settings, Codex CLI's hooks.json; the user's hooks are kept)."""
    original = _read(path)
    settings = _claude_settings(path, original)
    _drop_ours(settings)
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InvalidState(f"{path}: 'hooks' is not an object: not changed")
    for event in events:
        timeout = round(wait_s) + 30 if event == "PermissionRequest" else HOOK_TIMEOUT_S
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": command}]}
        entry["hooks"][0]["timeout"] = timeout
        if event in WITH_MATCHER:
            entry = {"matcher": "*", **entry}
        hooks.setdefault(event, []).append(entry)
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    return write_installed(path, original, text, lambda: _remember(home, path, original, text))


def remove_claude(home: Path, folder: Path) -> Change:
    """Take swarm's hooks out of ``folder``'s Claude Code settings."""
    path = folder / CLAUDE_FILE
    current = read_for_remove(path, lambda text: _restore(home, path, text))
    if isinstance(current, Change):
        return current
    settings = _claude_settings(path, current)
    if not _drop_ours(settings):
        return Change(path, "not installed")
    _write(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "removed")


def install_codex(home: Path, folder: Path, command: str) -> list[Change]:
    """swarm's hook in ``folder``'s ``.codex/hooks.json`` (Codex CLI's own hooks, in Claude
    Code's format and with its JSON on stdin; the user's hooks kept), and the ``notify`` line
    an older swarm put in ``.codex/config.toml`` taken out (Codex 0.169 ignores a project's
    ``notify``). Codex asks the person once to review new hooks before they run."""
    path = folder / CODEX_HOOKS_FILE
    changes = [_install_json(home, path, command, CODEX_EVENTS, 0.0)]
    old = _remove_notify(home, folder)
    return changes + ([old] if old.what in ("removed", "restored") else [])


def remove_codex(home: Path, folder: Path) -> list[Change]:
    """Take swarm's hooks out of ``folder``'s Codex CLI files (hooks.json, and the
    ``notify`` line of an older swarm)."""
    path = folder / CODEX_HOOKS_FILE
    changes = []
    current = read_for_remove(path, lambda text: _restore(home, path, text))
    if isinstance(current, Change):
        changes.append(current)
    else:
        settings = _claude_settings(path, current)
        if _drop_ours(settings):
            _write(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
            changes.append(Change(path, "removed"))
        else:
            changes.append(Change(path, "not installed"))
    old = _remove_notify(home, folder)
    return changes + ([old] if old.what in ("removed", "restored") else [])


def _remove_notify(home: Path, folder: Path) -> Change:
    """Take the ``notify`` line an older swarm wrote out of ``folder``'s Codex config."""
    path = folder / CODEX_FILE
    current = read_for_remove(path, lambda text: _restore(home, path, text))
    if isinstance(current, Change):
        return current
    lines = current.splitlines(keepends=True)
    kept = [line for line in lines if not line.rstrip().endswith(CODEX_MARK)]
    if len(kept) == len(lines):
        return Change(path, "not installed")
    _write(path, "".join(kept))
    return Change(path, "removed")


def _claude_settings(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        settings = json.loads(text)
    except ValueError as exc:
        raise InvalidState(f"{path}: not JSON ({exc}): not changed") from None
    if not isinstance(settings, dict):
        raise InvalidState(f"{path}: not a JSON object: not changed")
    return settings


def _drop_ours(settings: dict[str, Any]) -> bool:
    """Take every swarm hook out (and the groups and events left empty); True if any."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return False
    found = False
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list):
                mine = [h for h in inner if isinstance(h, dict) and is_ours(h.get("command"))]
                found = found or bool(mine)
                group["hooks"] = [h for h in inner if h not in mine]
        hooks[event] = [g for g in groups if not (isinstance(g, dict) and g.get("hooks") == [])]
        if not hooks[event]:
            del hooks[event]
    if not hooks:
        del settings["hooks"]
    return found


def _has_ours(path: Path, text: str) -> bool:
    if path.name == CODEX_FILE.name:
        return CODEX_MARK in text
    try:
        return _drop_ours(_claude_settings(path, text))
    except InvalidState:
        return False


def write_installed(
    path: Path, original: str | None, text: str, remember: Callable[[], None]
) -> Change:
    """Write ``text``, what install makes of the file, unless it is there already; the
    original is kept first by ``remember`` (for remove to bring it back)."""
    if original == text:
        return Change(path, "already installed")
    remember()
    _write(path, text)
    return Change(path, "added")


def read_for_remove(path: Path, restore: Callable[[str], Change | None]) -> str | Change:
    """The file's text for remove to take ours out of, or what remove did already: nothing
    to do (no file), or the file put back as it was before install (``restore``)."""
    current = _read(path)
    if current is None:
        return Change(path, "not installed")
    restored = restore(current)
    return current if restored is None else restored


def keep_out_of_git(
    folder: Path, files: Sequence[Path] = (CLAUDE_FILE, CODEX_HOOKS_FILE)
) -> list[str]:
    """Name swarm's ``files`` (relative to ``folder``; the hooks' by default) in the
    repository's ``info/exclude`` when ``folder`` is a git work tree and they are not tracked
    there, so an agent's ``git add -A`` never commits them (they hold this machine's paths);
    the patterns added."""
    from core.workspaces.git import GitFailed, git, ok

    if not ok(folder, "rev-parse", "--is-inside-work-tree"):
        return []
    try:
        exclude = folder / git(folder, "rev-parse", "--git-path", "info/exclude").strip()
    except GitFailed:
        return []
    text = _read(exclude) or ""
    have = set(text.splitlines())
    added = []
    for relative in files:
        pattern = f"/{relative.as_posix()}"
        if pattern not in have and not ok(folder, "ls-files", "--error-unmatch", str(relative)):
            added.append(pattern)
    if added:
        head = text if not text or text.endswith("\n") else text + "\n"
        make_dirs(exclude.parent)
        lines = ["# swarm's files in agents' workspaces (hooks, MCP server)", *added]
        _write(exclude, head + "".join(f"{line}\n" for line in lines))
    return added


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically, keeping its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


def _backup_path(home: Path, path: Path) -> Path:
    digest = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:24]
    return home / BACKUPS / f"{digest}.json"


def _remember(home: Path, path: Path, original: str | None, installed: str) -> None:
    """Keep the file as it was before install. Installed over our own earlier install, the
    first original stays; over a file someone changed since, nothing exact can come back
    (remove then takes our hooks out of the file as it is)."""
    backup = _backup_path(home, path)
    before = original
    if backup.exists():
        kept = json.loads(backup.read_text(encoding="utf-8"))
        if kept["installed"] != original:
            backup.unlink()
            return
        before = kept["original"]
    elif original is not None and _has_ours(path, original):
        return  # ours were there before swarm kept a copy: no exact original to keep
    make_dirs(backup.parent)
    record = {"path": str(path.absolute()), "original": before, "installed": installed}
    write_file(backup, json.dumps(record).encode())


def _restore(home: Path, path: Path, current: str, *, prune: bool = True) -> Change | None:
    """Put the file back as it was before install, if nobody changed it since; else None.
    ``prune``: a file that did not exist is removed with its folder when that is left empty
    (not for a file at the workspace's top: the folder is the workspace)."""
    backup = _backup_path(home, path)
    if not backup.exists():
        return None
    kept = json.loads(backup.read_text(encoding="utf-8"))
    if kept["installed"] != current:
        backup.unlink()
        return None
    if kept["original"] is None:
        path.unlink()
        for folder in (path.parent,) if prune else ():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    else:
        _write(path, kept["original"])
    backup.unlink()
    return Change(path, "restored")
