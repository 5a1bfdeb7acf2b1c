"""A host added to one agent's ``sandbox_allow`` in the agents file (the answer "allow" to a
refused host's "Needs you" item): the file edited as text, so its comments, order and other
keys stay as they were; one line written or replaced in that agent's ``[[agent]]`` table,
the result parsed and compared with what was meant before it replaces the file (by a
rename). A table written in a form this edit does not know (a list over several lines) is
left alone and said in one line: the person edits it by hand.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from core.errors import InvalidState
from core.privacy.files import write_file

# what may be written: a name or IPv4 address, and a port (what the proxy refused, as shown)
ENTRY = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}"
                   r"[a-z0-9])?:[1-9][0-9]{0,4}")  # fmt: skip
_HEADER = re.compile(r"^\s*\[")
_AGENT_HEADER = re.compile(r"^\s*\[\[\s*agent\s*\]\]\s*(#.*)?$")
_ID = re.compile(r"^\s*id\s*=")
_ALLOW = re.compile(r"^\s*sandbox_allow\s*=")


def plain_entry(entry: str) -> bool:
    """Whether ``entry`` is a ``host:port`` this edit writes (lower-case name or address)."""
    return (
        len(entry) <= 259
        and ENTRY.fullmatch(entry) is not None
        and int(entry.rsplit(":", 1)[1]) < 65536
    )


def allow_host(path: Path, agent: str, entry: str) -> tuple[str, ...]:
    """``entry`` added to ``agent``'s ``sandbox_allow`` in the agents file ``path``; the list
    as it is now written. InvalidState in one line when it cannot be written."""
    if not plain_entry(entry):
        raise InvalidState(f"{entry!r} is not a host:port swarm writes into sandbox_allow")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidState(f"{path} cannot be read: {exc}") from None
    table = _agent_table(data, agent, path)
    desktop = data.get("desktop")  # its list when its own table says none: [desktop]'s
    inherited: list[Any] = (
        list(desktop.get("sandbox_allow", [])) if isinstance(desktop, dict) else []
    )
    allow = list(table.get("sandbox_allow", inherited))
    if entry in allow:
        return tuple(allow)
    allow.append(entry)
    table["sandbox_allow"] = allow
    edited = _edited(text.splitlines(keepends=True), agent, allow)
    try:
        same = edited is not None and tomllib.loads(edited) == data
    except tomllib.TOMLDecodeError:
        same = False
    if edited is None or not same:
        raise InvalidState(
            f"{agent}'s table in {path} is written in a form swarm does not edit: add "
            f'"{entry}" to its sandbox_allow by hand'
        )
    _replace(path, edited)
    return tuple(allow)


def _agent_table(data: dict[str, Any], agent: str, path: Path) -> dict[str, Any]:
    tables = [t for t in data.get("agent", []) if isinstance(t, dict) and t.get("id") == agent]
    if len(tables) != 1:
        raise InvalidState(f"{path} has no [[agent]] {agent} (or more than one)")
    return tables[0]


def _edited(lines: list[str], agent: str, allow: list[str]) -> str | None:
    """The file's text with ``agent``'s ``sandbox_allow`` line written, None when its table
    or that line is not found as one plain line."""
    written = f"sandbox_allow = {json.dumps(allow)}\n"
    for start, line in enumerate(lines):
        if not _AGENT_HEADER.match(line):
            continue
        end = next((n for n in range(start + 1, len(lines)) if _HEADER.match(lines[n])),
                   len(lines))  # fmt: skip
        table = range(start + 1, end)
        if _table_id(lines, table) != agent:
            continue
        for n in table:
            if _ALLOW.match(lines[n]):
                if not _one_line_value(lines[n]):
                    return None
                lines[n] = written
                return "".join(lines)
        where = next(n for n in table if _ID.match(lines[n]))
        lines.insert(where + 1, written)
        return "".join(lines)
    return None


def _table_id(lines: list[str], table: range) -> str | None:
    for n in table:
        if _ID.match(lines[n]):
            try:
                found = tomllib.loads(lines[n]).get("id")
            except tomllib.TOMLDecodeError:
                return None
            return found if isinstance(found, str) else None
    return None


def _one_line_value(line: str) -> bool:
    try:
        return isinstance(tomllib.loads(line).get("sandbox_allow"), list)
    except tomllib.TOMLDecodeError:
        return False


def _replace(path: Path, text: str) -> None:
    """``path`` replaced whole by a rename, its mode kept."""
    mode = path.stat().st_mode & 0o777
    temporary = path.with_name(f".{path.name}.allow.{os.getpid()}")
    write_file(temporary, text.encode("utf-8"))
    os.chmod(temporary, mode)
    os.replace(temporary, path)
