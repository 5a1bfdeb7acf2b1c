"""Codex CLI's MCP server file: a ``[mcp_servers.swarm]`` table at the end of the workspace's
``.codex/config.toml``, and swarm's home as a writable root of its ``workspace-write``
sandbox, merged with the user's own (``core.clis.mcp_files``' approach and helpers)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.clis import hook_files, mcp_files
from core.clis.base import McpFiles
from core.clis.codex.hooks import CONFIG_FILE, has_notify
from core.clis.hook_files import Change
from core.clis.mcp_files import NAME, Server
from core.errors import InvalidState
from core.formats.tomltext import TomlError, loads
from core.sandbox import DOOR_AT

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
BEGIN = "# >>> swarm MCP server (swarm agents mcp install)"
END = "# <<< swarm MCP server"
# Codex CLI's workspace-write sandbox: its writable roots (0.169 reads them from the project's
# .codex/config.toml too); swarm's home among them, unless the user's file has this table
SANDBOX_TABLE = "sandbox_workspace_write"
# How long Codex waits for swarm's server to start: past its default wait it gives up on the
# server for the session, no swarm tool (0.169: a server 20 s late was waited for, 30 s late
# never). One ``swarm mcp`` answers in ~1.6 s; eight started at once on two cores, ~8 s each
# (2026-12-01); a larger fleet's, beside the CLIs' own starts, longer.
STARTUP_TIMEOUT_S = 60
NOTE = (
    "Codex CLI reads .codex/config.toml of a trusted project; where it does not, put the same "
    "[mcp_servers.swarm] table in ~/.codex/config.toml"
)


def install(home: Path, folder: Path, server: Server) -> list[Change]:
    """Put swarm's ``[mcp_servers.swarm]`` table at the end of ``folder``'s Codex config."""
    path = folder / CONFIG_FILE
    original = hook_files.read_text(path)
    kept = _without_ours(original or "")
    servers = _parse(path, kept).get("mcp_servers")
    if isinstance(servers, dict) and NAME in servers:
        return [Change(path, "kept")]  # a swarm server of the user's own
    parsed = _parse(path, kept)
    # the user's own table is kept; a sandboxed agent's server is its door's, and swarm's
    # home is not in its sandbox
    fenced = server.command.startswith(DOOR_AT + "/")
    writable = None if SANDBOX_TABLE in parsed or fenced else home.absolute()
    head = kept.rstrip("\n")
    text = (head + "\n\n" if head else "") + table(server, writable)
    _parse(path, text)  # e.g. an inline mcp_servers = {...} cannot take a table after it
    ours = original is not None and BEGIN in original
    keep = functools.partial(mcp_files.keep_original, home, path, original, text, ours, has_notify)
    return [hook_files.write_installed(path, original, text, keep)]


def remove(home: Path, folder: Path) -> list[Change]:
    """Take swarm's table out of ``folder``'s Codex config."""
    path = folder / CONFIG_FILE
    backups = home / mcp_files.BACKUPS
    current = hook_files.read_for_remove(path, lambda text: hook_files.restore(backups, path, text))
    if isinstance(current, Change):
        return [current]
    if BEGIN not in current:
        return [Change(path, "not installed")]
    head = _without_ours(current).rstrip("\n")
    hook_files.write_text(path, head + "\n" if head else "")
    return [Change(path, "removed")]


def table(server: Server, writable: Path | None = None) -> str:
    """The TOML block install writes (JSON strings are TOML basic strings); ``writable``:
    swarm's home, made a writable root of Codex's ``workspace-write`` sandbox, so that the
    shell's ``swarm task done`` (the fallback of the MCP tools) can write its database."""
    sandbox = (
        [f"[{SANDBOX_TABLE}]", f"writable_roots = {_toml_list([str(writable)])}"]
        if writable is not None
        else []
    )
    values = _values(server.command, server.args, server.env)
    return "\n".join(
        [
            BEGIN,
            f"[mcp_servers.{NAME}]",
            *(f"{key} = {value}" for key, value in values.items()),
            *sandbox,
            END,
            "",
        ]
    )


def _values(command: str, args: Sequence[str], env: Mapping[str, str]) -> dict[str, str]:
    """A server table's keys and their TOML values, as install writes them and as codex-acp
    reads them on its command line (``session_args``)."""
    pairs = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in env.items())
    return {
        "command": json.dumps(command, ensure_ascii=False),
        "args": _toml_list(args),
        "default_tools_approval_mode": '"approve"',  # no dialog per report (0.169)
        "startup_timeout_sec": str(STARTUP_TIMEOUT_S),
        "env": f"{{ {pairs} }}" if pairs else "{}",
        "env_vars": _toml_list(FORWARDED_ENV),
    }


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i, ensure_ascii=False) for i in items) + "]"


def _without_ours(text: str) -> str:
    """``text`` without the lines from ``BEGIN`` to ``END``."""
    lines, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.rstrip() == BEGIN:
            inside = True
        if not inside:
            lines.append(line)
        elif line.rstrip() == END:
            inside = False
    return "".join(lines)


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return loads(text)
    except TomlError as exc:
        raise InvalidState(f"{path}: not TOML ({exc}): not changed") from None


MCP = McpFiles(files=(CONFIG_FILE,), install=install, remove=remove, note=NOTE)


def session_args(servers: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The MCP servers of a protocol session as codex-acp's ``-c`` arguments, each one's
    tools approved (``default_tools_approval_mode``, swarm's server alone: never a policy for
    every tool). codex-acp builds a server given with the session anew, its approval mode
    unset (0.13's ``build_session_config``; 0.16 the same: "Approve MCP tool call?" at each
    report), and a ``-c`` for that name alone makes it refuse to start (no transport): so
    the whole server goes on its command line, not with the session."""
    args: list[str] = []
    for server in servers:
        env = {str(k): str(v) for k, v in (server.get("env") or {}).items()}
        words = [str(a) for a in server.get("args") or ()]
        for key, value in _values(str(server["command"]), words, env).items():
            args += ["-c", f"mcp_servers.{server['name']}.{key}={value}"]
    return tuple(args)
