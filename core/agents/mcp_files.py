"""swarm's MCP server in an agent's workspace, for each agent CLI: Claude Code's ``.mcp.json``,
Cursor's ``.cursor/mcp.json``, Gemini CLI's ``.gemini/settings.json`` (each ``{"mcpServers":
{"swarm": {...}}}``), opencode's ``opencode.json`` (``{"mcp": {"swarm": {"type": "local",
...}}}``) and Codex CLI's ``.codex/config.toml`` (a ``[mcp_servers.swarm]`` table, and swarm's
home as a writable root of its ``workspace-write`` sandbox), merged with the user's own.

The same approach as :mod:`core.agents.hook_files`, and its helpers: install is
idempotent and keeps every server of the user's (a server of theirs named ``swarm`` too: it
is left as it is); remove takes only ours out, and gives the file back byte for byte when it
is still what install wrote. The copies kept for that live apart from the hooks' (both write
``.codex/config.toml``), under ``$SWARM_HOME/mcp/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.agents.hook_files import (
    CODEX_FILE,
    Change,
    _backup_path,
    _claude_settings,
    _read,
    _remember,
    _restore,
    _write,
    keep_out_of_git,
    read_for_remove,
    write_installed,
)
from core.errors import InvalidState
from core.formats.tomltext import TomlError, loads

CLAUDE_FILE = Path(".mcp.json")
CURSOR_FILE = Path(".cursor") / "mcp.json"
GEMINI_FILE = Path(".gemini") / "settings.json"
OPENCODE_FILE = Path("opencode.json")
NAME = "swarm"  # the server's name in each file
BACKUPS = "mcp"  # $SWARM_HOME/mcp/hooks-backup/: apart from the hooks' copies
# What swarm's MCP server needs to reach the store and swarm never writes into a file (the
# database URL may hold a password; libpq's variables may say the rest). Claude Code, Gemini CLI
# and opencode give their servers the agent's whole environment; Codex CLI only HOME, PATH,
# LANG, TERM and the entry's ``env``, and the variables its ``env_vars`` names (0.169: without
# them, swarm's server on a PostgreSQL swarm opened another store, and every report failed)
FORWARDED_ENV = (
    "SWARM_DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
    "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT",
    "PGSSLKEY",
)  # fmt: skip
CODEX_BEGIN = "# >>> swarm MCP server (swarm agents mcp install)"
# Codex CLI's workspace-write sandbox: its writable roots (0.169 reads them from the project's
# .codex/config.toml too); swarm's home among them, unless the user's file has this table
SANDBOX_TABLE = "sandbox_workspace_write"
CODEX_END = "# <<< swarm MCP server"


@dataclass(frozen=True)
class Server:
    """How an agent CLI starts ``swarm mcp``: the program, its arguments, its environment."""

    command: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        """The ``mcpServers`` entry (Claude Code and Cursor read the same shape)."""
        return {"command": self.command, "args": list(self.args), "env": dict(self.env)}

    def gemini_entry(self) -> dict[str, Any]:
        """Gemini CLI's entry: the same, trusted (its tools run without a confirmation
        dialog each call: they act on swarm's own tasks only, as this agent)."""
        return {**self.entry(), "trust": True}

    def opencode_entry(self) -> dict[str, Any]:
        """opencode's ``local`` server: the whole command line as one list."""
        return {
            "type": "local",
            "command": [self.command, *self.args],
            "environment": dict(self.env),
            "enabled": True,
        }


@dataclass(frozen=True)
class JsonFile:
    """A JSON file of one or more agent CLIs: where, under which key, in which shape."""

    relative: Path
    key: str  # the object of servers: "mcpServers", opencode's "mcp"
    entry: Callable[[Server], dict[str, Any]]


CLAUDE = JsonFile(CLAUDE_FILE, "mcpServers", Server.entry)
CURSOR = JsonFile(CURSOR_FILE, "mcpServers", Server.entry)
GEMINI = JsonFile(GEMINI_FILE, "mcpServers", Server.gemini_entry)
OPENCODE = JsonFile(OPENCODE_FILE, "mcp", Server.opencode_entry)
JSON_FILES = (CLAUDE, CURSOR, GEMINI, OPENCODE)
EVERY = "every"  # install's kind for an agent whose CLI is not known: every CLI's file
# the files of each agent CLI (core.clis: an AgentCli's ``mcp``); unknown CLI: every file
FOR_CLI: dict[str, tuple[JsonFile, ...]] = {
    "claude": (CLAUDE,),
    "gemini": (GEMINI,),
    "opencode": (OPENCODE,),
    "codex": (),
}


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


def install(home: Path, folder: Path, server: Server, kind: str = EVERY) -> list[Change]:
    """Add swarm's server to the file of the agent CLI whose ``mcp`` is ``kind`` in
    ``folder``, or to every agent CLI's file (``EVERY``: its CLI not known); kept out of git."""
    files = JSON_FILES if kind == EVERY else FOR_CLI.get(kind, ())
    codex = kind in (EVERY, "codex")
    keep_out_of_git(folder, (*(f.relative for f in files), *((CODEX_FILE,) if codex else ())))
    changes = [install_json(home, folder, f, server) for f in files]
    return [*changes, install_codex(home, folder, server)] if codex else changes


def remove(home: Path, folder: Path) -> list[Change]:
    """Take swarm's server out of every agent CLI's file in ``folder``."""
    return [*(remove_json(home, folder, f) for f in JSON_FILES), remove_codex(home, folder)]


def install_json(home: Path, folder: Path, file: JsonFile, server: Server) -> Change:
    """Put swarm's server in ``file`` of ``folder``, the user's settings and servers kept."""
    path = folder / file.relative
    original = _read(path)
    settings = _claude_settings(path, original)
    servers = settings.setdefault(file.key, {})
    if not isinstance(servers, dict):
        raise InvalidState(f"{path}: {file.key!r} is not an object: not changed")
    if NAME in servers and not is_ours(servers[NAME]):
        return Change(path, "kept")
    servers[NAME] = file.entry(server)
    text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    ours = _json_has_ours(path, original, file.key)
    return write_installed(
        path, original, text, lambda: _keep_original(home, path, original, text, ours)
    )


def remove_json(home: Path, folder: Path, file: JsonFile) -> Change:
    """Take swarm's server out of ``file`` of ``folder``."""
    path = folder / file.relative
    prune = file.relative.parent != Path(".")
    current = read_for_remove(path, lambda text: _restore(home / BACKUPS, path, text, prune=prune))
    if isinstance(current, Change):
        return current
    settings = _claude_settings(path, current)
    servers = settings.get(file.key)
    if not isinstance(servers, dict) or not is_ours(servers.get(NAME)):
        return Change(path, "not installed")
    del servers[NAME]
    if not servers:
        del settings[file.key]
    _write(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return Change(path, "removed")


def install_codex(home: Path, folder: Path, server: Server) -> Change:
    """Put swarm's ``[mcp_servers.swarm]`` table at the end of ``folder``'s Codex config."""
    path = folder / CODEX_FILE
    original = _read(path)
    kept = _without_ours(original or "")
    servers = _parse(path, kept).get("mcp_servers")
    if isinstance(servers, dict) and NAME in servers:
        return Change(path, "kept")  # a swarm server of the user's own
    parsed = _parse(path, kept)
    writable = None if SANDBOX_TABLE in parsed else home.absolute()  # the user's own: kept
    head = kept.rstrip("\n")
    text = (head + "\n\n" if head else "") + codex_table(server, writable)
    _parse(path, text)  # e.g. an inline mcp_servers = {...} cannot take a table after it
    ours = original is not None and CODEX_BEGIN in original
    return write_installed(
        path, original, text, lambda: _keep_original(home, path, original, text, ours)
    )


def remove_codex(home: Path, folder: Path) -> Change:
    """Take swarm's table out of ``folder``'s Codex config."""
    path = folder / CODEX_FILE
    current = read_for_remove(path, lambda text: _restore(home / BACKUPS, path, text))
    if isinstance(current, Change):
        return current
    if CODEX_BEGIN not in current:
        return Change(path, "not installed")
    head = _without_ours(current).rstrip("\n")
    _write(path, head + "\n" if head else "")
    return Change(path, "removed")


def codex_table(server: Server, writable: Path | None = None) -> str:
    """The TOML block install writes (JSON strings are TOML basic strings); ``writable``:
    swarm's home, made a writable root of Codex's ``workspace-write`` sandbox, so that the
    shell's ``swarm task done`` (the fallback of the MCP tools) can write its database."""
    env = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in server.env.items())
    sandbox = (
        [f"[{SANDBOX_TABLE}]", f"writable_roots = {_toml_list([str(writable)])}"]
        if writable is not None
        else []
    )
    return "\n".join(
        [
            CODEX_BEGIN,
            f"[mcp_servers.{NAME}]",
            f"command = {json.dumps(server.command, ensure_ascii=False)}",
            f"args = {_toml_list(server.args)}",
            'default_tools_approval_mode = "approve"',  # no dialog per report (0.169)
            f"env = {{ {env} }}" if env else "env = {}",
            f"env_vars = {_toml_list(FORWARDED_ENV)}",
            *sandbox,
            CODEX_END,
            "",
        ]
    )


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"


def _without_ours(text: str) -> str:
    """``text`` without the lines from CODEX_BEGIN to CODEX_END."""
    lines, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.rstrip() == CODEX_BEGIN:
            inside = True
        if not inside:
            lines.append(line)
        elif line.rstrip() == CODEX_END:
            inside = False
    return "".join(lines)


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return loads(text)
    except TomlError as exc:
        raise InvalidState(f"{path}: not TOML ({exc}): not changed") from None


def _json_has_ours(path: Path, text: str | None, key: str) -> bool:
    if text is None:
        return False
    try:
        servers = _claude_settings(path, text).get(key)
    except InvalidState:
        return False
    return isinstance(servers, dict) and is_ours(servers.get(NAME))


def _keep_original(
    home: Path, path: Path, original: str | None, installed: str, had_ours: bool
) -> None:
    """Keep the file as it was before install, unless ours were in it already with no copy
    kept (nothing exact to give back: remove then takes ours out of the file as it is)."""
    if had_ours and not _backup_path(home / BACKUPS, path).exists():
        return
    _remember(home / BACKUPS, path, original, installed)
