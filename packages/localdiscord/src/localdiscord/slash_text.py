"""A slash command typed as text, ``/task create title:"Fix the login" role:backend``, read
against the synced command tree into the name and typed option values ``invoke_slash`` takes.

An option is ``name:value``; a value runs to the next word that reads as an option
(``name:``, lowercase as Discord's option names are; ``https://`` is not one), so
``title:Fix the login`` needs no quotes; a value holding such a word is quoted (``"..."``,
``\\"`` inside). An option the command does not have is an error, as in Discord's
client. Users, roles and channels are given as mentions (``<@id>``, ``<@&id>``, ``<#id>``),
ids or names; a choice by its name or its value. Anything Discord's client would not send is
a ``ValueError`` of one line.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

from localdiscord.commands import SUB_COMMAND, SUB_COMMAND_GROUP
from localdiscord.options import BOOLEAN, CHANNEL, INTEGER, MENTIONABLE, NUMBER, ROLE, USER
from localdiscord.world import GuildSpec

Json = dict[str, Any]
_OPTION = re.compile(r"([-_a-z0-9]+):(?!//)")
_NEXT_OPTION = re.compile(r"\s[-_a-z0-9]+:(?!//)")
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
SUBS = (SUB_COMMAND, SUB_COMMAND_GROUP)


def parse_slash(text: str, commands: list[Json], guild: GuildSpec) -> tuple[str, dict[str, Any]]:
    """``("task create", {"title": "Fix the login", ...})`` for ``text``; ``commands``: the
    synced chat-input commands (the guild's first, as Discord's client lists them)."""
    path, node, rest = _leaf(text, commands)
    definitions = {o["name"]: o for o in node.get("options") or []}
    raw, _ = _split_options(rest, definitions, " ".join(path))
    values = {name: _typed(definitions[name], value, guild) for name, value in raw.items()}
    return " ".join(path), values


@dataclass(frozen=True)
class Partial:
    """A command being typed: its name, the options given before, the one being typed."""

    name: str
    values: dict[str, Any]
    focused: Json  # the option's definition
    typed: str


def partial_option(text: str, commands: list[Json], guild: GuildSpec) -> Partial | None:
    """The option whose value ``text`` ends in (unquoted), for suggestions; None when the
    text ends elsewhere or does not read."""
    try:
        path, node, rest = _leaf(text, commands)
        definitions = {o["name"]: o for o in node.get("options") or []}
        raw, quoted = _split_options(rest, definitions, " ".join(path))
    except ValueError:
        return None
    if not raw or quoted:
        return None
    name, typed = list(raw.items())[-1]
    if typed and text != text.rstrip():
        return None  # a space after the value: the person moved on
    values = {}
    for other, value in list(raw.items())[:-1]:
        with contextlib.suppress(ValueError):  # what does not read yet is left out
            values[other] = _typed(definitions[other], value, guild)
    return Partial(" ".join(path), values, definitions[name], typed)


def _leaf(text: str, commands: list[Json]) -> tuple[list[str], Json, str]:
    """The command's path, its leaf (the subcommand run) and the text of its options."""
    line = " ".join(text.strip().splitlines()).strip()
    if not line.startswith("/") or len(line) == 1:
        raise ValueError("a slash command starts with /, e.g. /help")
    words = line[1:].split(None, 1)
    root = _find(commands, words[0])
    node, path, rest = root, [str(root["name"])], words[1] if len(words) > 1 else ""
    while _subcommands(node):
        head, _, tail = rest.strip().partition(" ")
        names = [o["name"] for o in _subcommands(node)]
        if not head or ":" in head:
            raise ValueError(f"/{' '.join(path)} needs a subcommand: {', '.join(names)}")
        found = next((o for o in _subcommands(node) if o["name"] == head), None)
        if found is None:
            raise ValueError(
                f"/{' '.join(path)} has no subcommand {head!r}; it has {', '.join(names)}"
            )
        node = found
        path.append(head)
        rest = tail
    return path, node, rest


def usage(commands: list[Json]) -> list[Json]:
    """Each runnable command as ``{"usage": "/task create title: [role:]", "description"}``."""
    found: list[Json] = []
    for command in sorted(commands, key=lambda c: c["name"]):
        _usages(command, [command["name"]], found)
    return found


def _usages(node: Json, path: list[str], found: list[Json]) -> None:
    subs = _subcommands(node)
    if subs:
        for sub in subs:
            _usages(sub, [*path, sub["name"]], found)
        return
    shown = [
        f"{o['name']}:" if o.get("required") else f"[{o['name']}:]"
        for o in node.get("options") or []
    ]
    text = " ".join(["/" + " ".join(path), *shown])
    found.append({"usage": text, "description": node.get("description") or ""})


def _find(commands: list[Json], name: str) -> Json:
    for command in commands:
        if command["name"] == name and command.get("type", 1) == 1:
            return command
    known = ", ".join(sorted({"/" + c["name"] for c in commands if c.get("type", 1) == 1}))
    raise ValueError(f"unknown command /{name}; the bot has {known or 'no commands yet'}")


def _subcommands(node: Json) -> list[Json]:
    return [o for o in node.get("options") or [] if o["type"] in SUBS]


def _split_options(
    rest: str, definitions: dict[str, Json], where: str
) -> tuple[dict[str, str], bool]:
    """``title:Fix the login role:backend`` → ``{"title": "Fix the login", "role": ...}``,
    and whether the last value was quoted."""
    found: dict[str, str] = {}
    quoted = False
    pos = _skip_spaces(rest, 0)
    while pos < len(rest):
        match = _OPTION.match(rest, pos)
        if match is None:
            word = rest[pos:].split()[0]
            raise ValueError(f"expected option:value in /{where}, got {word!r}")
        name = match.group(1)
        if name not in definitions:
            known = ", ".join(definitions) or "none"
            raise ValueError(
                f"/{where} has no option {name!r} (its options: {known}); "
                'quote a value that holds "word:"'
            )
        if name in found:
            raise ValueError(f"option {name!r} is given twice")
        start = _skip_spaces(rest, match.end())
        quoted = rest.startswith('"', start)
        value, pos = _value(rest, start)
        found[name] = value
        pos = _skip_spaces(rest, pos)
    return found, quoted


def _value(rest: str, pos: int) -> tuple[str, int]:
    """The value starting at ``pos`` and where the next option starts."""
    if rest.startswith('"', pos):
        end = pos + 1
        while end < len(rest) and rest[end] != '"':
            end += 2 if rest[end] == "\\" else 1
        if end >= len(rest):
            raise ValueError("a quoted value has no closing quote")
        if end + 1 < len(rest) and not rest[end + 1].isspace():
            raise ValueError(f"expected a space after the closing quote, got {rest[end + 1]!r}")
        return re.sub(r"\\(.)", r"\1", rest[pos + 1 : end]), end + 1
    after = _NEXT_OPTION.search(rest, pos)
    end = after.start() if after else len(rest)
    return rest[pos:end].strip(), end


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _typed(definition: Json, value: str, guild: GuildSpec) -> Any:
    """The value as Discord's client would send it for this option's type."""
    name, kind = definition["name"], definition["type"]
    choices = definition.get("choices") or []
    picked = next((c["value"] for c in choices if c["name"].lower() == value.lower()), None)
    if picked is not None:
        return picked
    try:
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
    except ValueError:
        raise ValueError(f"option {name!r} takes a number, not {value!r}") from None
    if kind == BOOLEAN:
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError(f"option {name!r} takes true or false, not {value!r}")
        return value.lower() in _TRUE
    if kind in (USER, ROLE, CHANNEL, MENTIONABLE):
        return _entity(kind, name, value, guild)
    return value


def _entity(kind: int, name: str, value: str, guild: GuildSpec) -> int:
    """The id of the member, role or channel named by a mention, an id or a name."""
    mention = _MENTION.fullmatch(value)
    text = mention.group(2) if mention else value.lstrip("@#")
    pools = {
        USER: [(u.id, u.name) for u in guild.users],
        ROLE: [(r.id, r.name) for r in guild.roles],
        CHANNEL: [(c.id, c.name) for c in guild.channels + guild.threads],
    }
    pools[MENTIONABLE] = pools[USER] + pools[ROLE]
    for ident, label in pools[kind]:
        if text == str(ident) or text.lower() == label.lower():
            return ident
    raise ValueError(f"option {name!r}: no such {_KINDS[kind]} {value!r}")


_KINDS = {USER: "member", ROLE: "role", CHANNEL: "channel", MENTIONABLE: "member or role"}
