"""swarm's MCP server in an agent's workspace: the machinery every CLI's MCP writer shares.
Most CLIs read ``{"mcpServers": {"swarm": {...}}}`` in a JSON file of their own (Claude
Code's ``.mcp.json``, Gemini CLI's ``.gemini/settings.json``, Cursor's ``.cursor/mcp.json``;
opencode's ``opencode.json`` under ``mcp``): ``JsonFile`` writes one such file; Codex CLI's
TOML table is its own (``core.clis.codex.mcp``).

The same approach as :mod:`core.clis.hook_files`, and its helpers: install is idempotent and
keeps every server of the user's (a server of theirs named ``swarm`` too: it is left as it
is); remove takes only ours out, and gives the file back byte for byte when it is still what
install wrote. The copies kept for that live apart from the hooks' (both write
``.codex/config.toml``), under ``$SWARM_HOME/mcp/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.clis import hook_files
from core.clis.base import Change, McpFiles
from core.clis.base import Server as Server  # how a CLI starts swarm mcp
from core.errors import InvalidState

NAME = "swarm"  # the server's name in each file
BACKUPS = "mcp"  # $SWARM_HOME/mcp/hooks-backup/: apart from the hooks' copies


@dataclass(frozen=True)
class JsonFile:
    """A JSON file of an agent CLI: where, under which key, in which shape."""

    relative: Path
    key: str  # the object of servers: "mcpServers", opencode's "mcp"
    entry: Callable[[Server], dict[str, Any]] = Server.entry

    def install(self, home: Path, folder: Path, server: Server) -> list[Change]:
        """swarm's server in this file of ``folder`` (``install_json``)."""
        return [install_json(home, folder, self, server)]

    def remove(self, home: Path, folder: Path) -> list[Change]:
        """swarm's server out of this file of ``folder`` (``remove_json``)."""
        return [remove_json(home, folder, self)]

    def files(self, note: str = "") -> McpFiles:
        """This file as a CLI's ``mcp``."""
        return McpFiles((self.relative,), self.install, self.remove, note)


# Cursor (the editor and its CLI) reads this file; swarm launches no Cursor CLI, so it is
# written only for an agent whose CLI is not known (every CLI's file then)
CURSOR = JsonFile(Path(".cursor") / "mcp.json", "mcpServers").files()
EDITORS = (CURSOR,)


def is_ours(entry: object) -> bool:
    """True for a server entry that runs ``swarm mcp`` (or ``python -m bot.cli mcp``), in
    the ``command`` + ``args`` shape or opencode's one ``command`` list."""
    if not isinstance(entry, dict):
        return False
    args, command = entry.get("args"), entry.get("command")
    if isinstance(command, list) and command and args is None:
        command, args = command[0], command[1:]
    if not isinstance(args, list) or not isinstance(command, str):
        return False
    return args[-2:] == ["bot.cli", "mcp"] or (Path(command).name == "swarm" and args == ["mcp"])


def install_json(home: Path, folder: Path, file: JsonFile, server: Server) -> Change:
    """Put swarm's server in ``file`` of ``folder``, the user's settings and servers kept."""
    path = folder / file.relative
    original = hook_files.read_text(path)
    settings = hook_files.json_settings(path, original)
    servers = settings.setdefault(file.key, {})
    if not isinstance(servers, dict):
        raise InvalidState(f"{path}: {file.key!r} is not an object: not changed")
    if NAME in servers and not is_ours(servers[NAME]):
        return Change(path, "kept")
    servers[NAME] = file.entry(server)
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    ours = _json_has_ours(path, original, file.key)
    return hook_files.write_installed(
        path, original, text, lambda: keep_original(home, path, original, text, ours)
    )


def remove_json(home: Path, folder: Path, file: JsonFile) -> Change:
    """Take swarm's server out of ``file`` of ``folder``."""
    path = folder / file.relative
    prune = file.relative.parent != Path(".")
    current = hook_files.read_for_remove(
        path, lambda text: hook_files.restore(home / BACKUPS, path, text, prune=prune)
    )
    if isinstance(current, Change):
        return current
    settings = hook_files.json_settings(path, current)
    servers = settings.get(file.key)
    if not isinstance(servers, dict) or not is_ours(servers.get(NAME)):
        return Change(path, "not installed")
    del servers[NAME]
    if not servers:
        del settings[file.key]
    hook_files.write_text(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "removed")


def _json_has_ours(path: Path, text: str | None, key: str) -> bool:
    if text is None:
        return False
    try:
        servers = hook_files.json_settings(path, text).get(key)
    except InvalidState:
        return False
    return isinstance(servers, dict) and is_ours(servers.get(NAME))


def keep_original(
    home: Path,
    path: Path,
    original: str | None,
    installed: str,
    had_ours: bool,
    ours: Callable[[Path, str], bool] = hook_files.has_hooks,
) -> None:
    """Keep the file as it was before install, unless ours were in it already with no copy
    kept (nothing exact to give back: remove then takes ours out of the file as it is)."""
    if had_ours and not hook_files.backup_path(home / BACKUPS, path).exists():
        return
    hook_files.remember(home / BACKUPS, path, original, installed, ours)
