"""Rewrite the input points (and input boxes) in the agents file, keeping everything else;
park, bring back or remove whole agents.

The file is edited as text (comments, order and other keys stay as they were) and the result
is checked by parsing it; when a table is written in a form the text edit does not know, the
whole file is written anew from its parsed contents. Writes are atomic, with a backup.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError, NotFound
from core.privacy.files import FILE_MODE, open_file

AGENT_KEY_ORDER = (
    "id",
    "role",
    "capabilities",
    "app",
    "input",
    "input_box",
    "watch",
    "capacity",
    "submit",
    "paste",
    "clear",
    "delivery",
)
_HEADER = re.compile(r"^\s*\[")
_AGENT_HEADER = re.compile(r"^\s*\[\[\s*agent\s*\]\]\s*(#.*)?$")
_TEAM_HEADER = re.compile(r"^(\s*\[\[\s*)(agent|parked)(\s*\]\]\s*(?:#.*)?)$", re.DOTALL)
_DESKTOP_AGENT = re.compile(r"^\s*\[\s*desktop\s*\.\s*agent\s*\.\s*(\"?)([^\]\"]+)\1\s*\]")
_KEPT = re.compile(r"^\s*(#.*)?$")  # a blank or comment line
_ID_LINE = re.compile(r"^\s*id\s*=")
Point = tuple[int, int]
AgentValues = Mapping[str, Mapping[str, list[int] | str | bool]]  # id -> key -> numbers, text, flag


def write_agent_values(path: Path, values: AgentValues) -> Path:
    """Set keys of the named agents (``input``, ``input_box``: numbers; ``app``: text); the
    backup."""
    original = path.read_text(encoding="utf-8")
    data = _parse(path, original)
    expected = _with_values(path, data, values)
    text = _edit_text(original, values)
    if text is None or _parse(path, text) != expected:
        text = dumps(expected)
    backup = path.with_name(path.name + ".bak")
    atomic_write(backup, original)
    atomic_write(path, text)
    return backup


def move_agents(
    path: Path,
    park: Sequence[str] = (),
    unpark: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> Path:
    """Make the named agents' tables ``[[parked]]`` (``park``) or ``[[agent]]`` again
    (``unpark``), or delete them with their ``[desktop.agent.NAME]`` (``remove``); comments,
    order and other keys stay. Atomic, with a backup (returned)."""
    original = path.read_text(encoding="utf-8")
    expected = _moved(path, _parse(path, original), park, unpark, remove)
    text = _move_text(original, set(park), set(unpark), set(remove))
    if text is None or _by_id(_parse(path, text)) != _by_id(expected):
        text = dumps(expected)
    backup = path.with_name(path.name + ".bak")
    atomic_write(backup, original)
    atomic_write(path, text)
    return backup


def _moved(
    path: Path,
    data: dict[str, Any],
    park: Sequence[str],
    unpark: Sequence[str],
    remove: Sequence[str],
) -> dict[str, Any]:
    """The parsed file as ``move_agents`` leaves it (agents first, then the parked ones)."""
    result = copy.deepcopy(data)
    entries = [("agent", e) for e in result.pop("agent", [])]
    entries += [("parked", e) for e in result.pop("parked", [])]
    known = {entry.get("id") for _, entry in entries}
    missing = [a for a in (*park, *unpark, *remove) if a not in known]
    if missing:
        raise NotFound(f"agent {missing[0]} is not in {path}")
    kinds = {a: "parked" for a in park} | {a: "agent" for a in unpark}
    moved: dict[str, list[Any]] = {"agent": [], "parked": []}
    for kind, entry in entries:
        if entry.get("id") not in remove:
            moved[kinds.get(entry.get("id"), kind)].append(entry)
    desktop = result.get("desktop", {})
    for agent in remove:
        desktop.get("agent", {}).pop(agent, None)
    if desktop.get("agent") == {}:
        del desktop["agent"]
    return {**result, **{k: v for k, v in moved.items() if v}}


def _by_id(data: dict[str, Any]) -> dict[str, Any]:
    """The parsed file with its agents and parked agents by id (their order aside: a table
    brought back stays where it is in the text), empty tables left out."""
    return {
        k: {e.get("id"): e for e in v} if k in ("agent", "parked") else v
        for k, v in data.items()
        if v != {} and not (k == "desktop" and v.keys() == {"agent"} and v["agent"] == {})
    }


def _move_text(text: str, park: set[str], unpark: set[str], remove: set[str]) -> str | None:
    """The text with the headers renamed and the removed tables cut; None when a table is
    too unusual (no id line)."""
    lines = text.splitlines(keepends=True)
    header = len(lines)
    while (header := min(header, len(lines)) - 1) >= 0:  # bottom up: a cut moves no table above
        team = _TEAM_HEADER.match(lines[header])
        desktop = _DESKTOP_AGENT.match(lines[header])
        if team is None and (desktop is None or desktop.group(2).strip() not in remove):
            continue
        table = _table_range(lines, header)
        agent = desktop.group(2).strip() if desktop is not None else _table_id(lines, table)
        if agent is None:
            return None
        if agent in remove:
            _cut(lines, header, _own_end(lines, table))
        elif team is not None and agent in park | unpark:
            kind = "parked" if agent in park else "agent"
            lines[header] = f"{team.group(1)}{kind}{team.group(3)}"
    return "".join(lines)


def _cut(lines: list[str], start: int, end: int) -> None:
    """Delete lines ``start`` to ``end`` and the blank line before them when one follows."""
    del lines[start:end]
    blank_after = start == len(lines) or not lines[start].strip()
    if start > 0 and not lines[start - 1].strip() and blank_after:
        del lines[start - 1]


def _own_end(lines: list[str], table: range) -> int:
    """Where a table's own lines end: the blank and comment lines just before the next
    header are the next table's."""
    end = table.stop
    if end == len(lines):
        return end
    while end > table.start and _KEPT.match(lines[end - 1]):
        end -= 1
    return end


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (temporary file, fsync, rename); the file
    is 0600, like every file swarm makes."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = open_file(temp)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        os.fchmod(fd, FILE_MODE)  # a temporary file left over with another mode
        out.write(text)
        out.flush()
        os.fsync(fd)
    os.replace(temp, path)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"agents file {path} is not valid TOML: {exc}") from None


def _with_values(path: Path, data: dict[str, Any], values: AgentValues) -> dict[str, Any]:
    result = copy.deepcopy(data)
    agents = result.get("agent")
    if not isinstance(agents, list):
        raise ConfigError(f"agents file {path} defines no agents: add [[agent]] tables")
    by_id = {entry.get("id"): entry for entry in agents if isinstance(entry, dict)}
    for agent_id, keys in values.items():
        if agent_id not in by_id:
            raise NotFound(f"agent {agent_id} is not in {path}")
        for key, value in keys.items():
            by_id[agent_id][key] = (
                value if isinstance(value, str | bool) else [int(n) for n in value]
            )
    return result


def _edit_text(text: str, values: AgentValues) -> str | None:
    """The text with the values replaced or added; None when a table is too unusual."""
    lines = text.splitlines(keepends=True)
    for table in reversed(_agent_tables(lines)):
        agent_id = _table_id(lines, table)
        if agent_id is None or agent_id not in values:
            continue
        for key, numbers in reversed(list(values[agent_id].items())):
            table = _table_range(lines, table.start - 1)
            if not _set_value(lines, table, key, numbers):
                return None
    return "".join(lines)


def _agent_tables(lines: list[str]) -> list[range]:
    starts = [i for i, line in enumerate(lines) if _AGENT_HEADER.match(line)]
    return [_table_range(lines, start) for start in starts]


def _table_range(lines: list[str], header: int) -> range:
    """The lines of the table whose header is at ``header`` (after an insert, too)."""
    end = next((j for j in range(header + 1, len(lines)) if _HEADER.match(lines[j])), len(lines))
    return range(header + 1, end)


def _table_id(lines: list[str], table: range) -> str | None:
    for i in table:
        if _ID_LINE.match(lines[i]):
            try:
                value = tomllib.loads(lines[i]).get("id")
            except tomllib.TOMLDecodeError:
                return None
            return value if isinstance(value, str) else None
    return None


def _set_value(lines: list[str], table: range, key: str, numbers: list[int] | str | bool) -> bool:
    if isinstance(numbers, bool):
        value, old = _value(numbers), r"true|false"
    elif isinstance(numbers, str):
        value = _value(numbers)
        old = r'"(?:[^"\\\n]|\\.)*"' + r"|'[^'\n]*'"  # a one-line string, either quote
    else:
        value = "[" + ", ".join(str(int(n)) for n in numbers) + "]"
        old = r"\[[^\]\n]*\]"
    one_line = re.compile(rf"^(\s*{key}\s*=\s*)(?:{old})(.*)$", re.DOTALL)
    for i in table:
        match = one_line.match(lines[i])
        if match:
            lines[i] = f"{match.group(1)}{value}{match.group(2)}"
            return True
        if re.match(rf"^\s*{key}\s*=", lines[i]):
            return False  # a multi-line or odd value: let the caller rewrite the file
    id_line = next(i for i in table if _ID_LINE.match(lines[i]))
    newline = "\r\n" if lines[id_line].endswith("\r\n") else "\n"
    if not lines[id_line].endswith(("\n", "\r")):
        lines[id_line] += newline
    lines.insert(id_line + 1, f"{key} = {value}{newline}")
    return True


def dumps(data: Mapping[str, Any]) -> str:
    """TOML for an agents-file document (scalars, arrays, tables, arrays of tables)."""
    out: list[str] = []
    _dump_table(out, data, prefix="")
    return "".join(out).lstrip("\n")


def _dump_table(out: list[str], table: Mapping[str, Any], prefix: str) -> None:
    keys = _ordered(table, prefix)
    plain = [k for k in keys if not _is_table(table[k]) and not _is_table_array(table[k])]
    for key in plain:
        out.append(f"{_key(key)} = {_value(table[key])}\n")
    for key in keys:
        value, name = table[key], f"{prefix}{_key(key)}"
        if _is_table(value):
            out.append(f"\n[{name}]\n")
            _dump_table(out, value, prefix=f"{name}.")
        elif _is_table_array(value):
            for entry in value:
                out.append(f"\n[[{name}]]\n")
                _dump_table(out, entry, prefix=f"{name}.")


def _ordered(table: Mapping[str, Any], prefix: str) -> list[str]:
    if prefix != "agent.":
        return list(table)
    known = [k for k in AGENT_KEY_ORDER if k in table]
    return known + [k for k in table if k not in AGENT_KEY_ORDER]


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} values to TOML")
