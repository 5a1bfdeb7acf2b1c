"""swarm's files in an agent's workspace, merged with the user's own: the machinery every
CLI's hook and MCP writers share. Claude Code's hooks format (a ``hooks`` object of events,
each a list of ``{"matcher", "hooks": [{"type": "command", "command"}]}`` groups) is read by
Claude Code (``.claude/settings.local.json``) and Codex CLI (``.codex/hooks.json``) alike:
``install_json`` and ``remove_json`` write it for both.

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
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.clis.base import Change as Change  # what install and remove say of each file
from core.errors import InvalidState
from core.privacy.files import NotPlain, make_dirs, read_plain, write_file

BACKUPS = "hooks-backup"
READ_MAX = 4 << 20  # bytes of a settings file read at most (a bigger one is refused)
WITH_MATCHER = frozenset({"PreToolUse", "PermissionRequest"})
PERMISSION_EVENT = "PermissionRequest"  # its hook waits for a person: a longer timeout
HOOK_TIMEOUT_S = 10  # Claude Code stops a hook after this; the PermissionRequest one waits longer
_OURS = re.compile(r"((^|[\s/'\"])swarm['\"]? hook|-m bot\.cli\.hook) --agent ")


def is_ours(command: object) -> bool:
    """True for a hook command that runs ``swarm hook --agent`` (or its faster start,
    ``python -m bot.cli.hook --agent``)."""
    return isinstance(command, str) and _OURS.search(command) is not None


def install_json(
    home: Path, path: Path, command: str, events: Sequence[str], wait_s: float
) -> Change:
    """Merge swarm's hook for each of ``events`` into the Claude-format hooks file ``path``
    (Claude Code's settings, Codex CLI's hooks.json; the user's hooks are kept)."""
    original = read_text(path)
    settings = json_settings(path, original)
    drop_ours(settings)
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InvalidState(f"{path}: 'hooks' is not an object: not changed")
    for event in events:
        timeout = round(wait_s) + 30 if event == PERMISSION_EVENT else HOOK_TIMEOUT_S
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": command}]}
        entry["hooks"][0]["timeout"] = timeout
        if event in WITH_MATCHER:
            entry = {"matcher": "*", **entry}
        hooks.setdefault(event, []).append(entry)
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    return write_installed(path, original, text, lambda: remember(home, path, original, text))


def remove_json(home: Path, path: Path) -> Change:
    """Take swarm's hooks out of the Claude-format hooks file ``path``."""
    current = read_for_remove(path, lambda text: restore(home, path, text))
    if isinstance(current, Change):
        return current
    settings = json_settings(path, current)
    if not drop_ours(settings):
        return Change(path, "not installed")
    write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "removed")


def json_settings(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON object of a file's ``text`` ({} for none); InvalidState naming the file."""
    if text is None or not text.strip():
        return {}
    try:
        settings = json.loads(text)
    except ValueError as exc:
        raise InvalidState(f"{path}: not JSON ({exc}): not changed") from None
    if not isinstance(settings, dict):
        raise InvalidState(f"{path}: not a JSON object: not changed")
    return settings


def drop_ours(settings: dict[str, Any]) -> bool:
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


def has_hooks(path: Path, text: str) -> bool:
    """Whether the Claude-format file's ``text`` holds a swarm hook."""
    try:
        return drop_ours(json_settings(path, text))
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
    write_text(path, text)
    return Change(path, "added")


def read_for_remove(path: Path, restore: Callable[[str], Change | None]) -> str | Change:
    """The file's text for remove to take ours out of, or what remove did already: nothing
    to do (no file), or the file put back as it was before install (``restore``)."""
    current = read_text(path)
    if current is None:
        return Change(path, "not installed")
    restored = restore(current)
    return current if restored is None else restored


def read_text(path: Path) -> str | None:
    """The file's text, None when there is no file; InvalidState (one line) when it or a
    folder on its way in the workspace is a symbolic link (:func:`refuse_links`): the
    workspace is its agent's, and a link would have swarm read the person's files; or when
    it is no regular file (a FIFO would hold swarm for good) or over ``READ_MAX`` bytes."""
    refuse_links(path)
    try:
        data = read_plain(path, READ_MAX + 1)
    except FileNotFoundError:
        return None
    except NotPlain as exc:  # a FIFO, a device, a folder
        raise InvalidState(f"{exc.strerror}: nothing written") from None
    except OSError as exc:
        raise InvalidState(f"{path} cannot be read ({exc.strerror}): nothing written") from None
    if len(data) > READ_MAX:
        raise InvalidState(f"{path} is over {READ_MAX // 1024} KB: nothing written")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidState(f"{path} is not UTF-8 text: nothing written") from None


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically, keeping its mode: its folders made, no link followed
    (:func:`refuse_links`), the new text written to a temporary file of a name nobody could
    plant (made exclusively), then renamed over it."""
    refuse_links(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_links(path)  # the folders just made: a link planted meanwhile is refused too
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    try:
        mode = os.lstat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def refuse_links(path: Path) -> None:
    """InvalidState (one line) when ``path`` or a folder on its way up to the top of its
    workspace (the first folder holding ``.git`` that is no link itself) is a symbolic
    link: a workspace's files are its agent's to make, links to the person's files too."""
    for step in (path, *path.parents):
        if step.is_symlink():
            raise InvalidState(
                f"{step} is a symbolic link (to {os.readlink(step)}): swarm writes and reads "
                "no file through a link in an agent's workspace; nothing written"
            )
        if step != path and os.path.lexists(step / ".git"):
            return


def backup_path(home: Path, path: Path) -> Path:
    """Where the copy of ``path`` as it was before install is kept."""
    digest = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:24]
    return home / BACKUPS / f"{digest}.json"


def remember(
    home: Path,
    path: Path,
    original: str | None,
    installed: str,
    ours: Callable[[Path, str], bool] = has_hooks,
) -> None:
    """Keep the file as it was before install. Installed over our own earlier install, the
    first original stays; over a file someone changed since, nothing exact can come back
    (remove then takes our hooks out of the file as it is). ``ours``: whether a file's text
    holds swarm's own lines already (then there is no exact original to keep)."""
    backup = backup_path(home, path)
    before = original
    if backup.exists():
        kept = json.loads(backup.read_text(encoding="utf-8"))
        if kept["installed"] != original:
            backup.unlink()
            return
        before = kept["original"]
    elif original is not None and ours(path, original):
        return  # ours were there before swarm kept a copy: no exact original to keep
    make_dirs(backup.parent)
    record = {"path": str(path.absolute()), "original": before, "installed": installed}
    write_file(backup, json.dumps(record).encode())


def restore(home: Path, path: Path, current: str, *, prune: bool = True) -> Change | None:
    """Put the file back as it was before install, if nobody changed it since; else None.
    ``prune``: a file that did not exist is removed with its folder when that is left empty
    (not for a file at the workspace's top: the folder is the workspace)."""
    backup = backup_path(home, path)
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
        write_text(path, kept["original"])
    backup.unlink()
    return Change(path, "restored")
