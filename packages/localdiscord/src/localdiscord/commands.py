"""Synced application commands: storage, Discord's validation rules, lookup by name."""

from __future__ import annotations

import copy
import re
from typing import Any

from localdiscord.errors import UNKNOWN_APPLICATION_COMMAND, invalid_form, not_found
from localdiscord.world import World

Json = dict[str, Any]
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
CHAT_INPUT = 1
_NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMANDS = 100
MAX_OPTIONS = 25


class CommandRegistry:
    """Commands per scope: a guild id, or ``None`` for global commands."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._scopes: dict[int | None, dict[int, Json]] = {}

    def in_scope(self, scope: int | None) -> list[Json]:
        """The commands of one scope, as Discord returns them."""
        return [copy.deepcopy(command) for command in self._scopes.get(scope, {}).values()]

    def get(self, scope: int | None, command_id: int) -> Json:
        """One stored command; 404 ``Unknown application command`` otherwise."""
        command = self._scopes.get(scope, {}).get(command_id)
        if command is None:
            raise not_found(UNKNOWN_APPLICATION_COMMAND, "application command")
        return copy.deepcopy(command)

    def overwrite(self, scope: int | None, payloads: list[Json]) -> list[Json]:
        """Bulk overwrite (``PUT``): keeps ids of commands whose name and type are unchanged."""
        problems: dict[str, str] = {}
        if len(payloads) > MAX_COMMANDS:
            problems["_"] = f"Must be {MAX_COMMANDS} or fewer in length."
        for index, payload in enumerate(payloads):
            _check_command(payload, str(index), problems)
        if problems:
            raise invalid_form(problems)
        old = {(c["name"], c["type"]): c["id"] for c in self._scopes.get(scope, {}).values()}
        stored: dict[int, Json] = {}
        for payload in payloads:
            key = (payload["name"], payload.get("type", CHAT_INPUT))
            command = self._normalise(scope, payload, old.get(key))
            stored[int(command["id"])] = command
        self._scopes[scope] = stored
        self._world.changes.notify()
        return self.in_scope(scope)

    def upsert(self, scope: int | None, payload: Json) -> Json:
        """Create or replace one command (``POST``), matched by name and type."""
        problems: dict[str, str] = {}
        _check_command(payload, "_", problems)
        if problems:
            raise invalid_form(problems)
        commands = self._scopes.setdefault(scope, {})
        key = (payload["name"], payload.get("type", CHAT_INPUT))
        old_id = next((c["id"] for c in commands.values() if (c["name"], c["type"]) == key), None)
        command = self._normalise(scope, payload, old_id)
        commands[int(command["id"])] = command
        self._world.changes.notify()
        return copy.deepcopy(command)

    def delete(self, scope: int | None, command_id: int) -> None:
        """Remove one command."""
        self.get(scope, command_id)
        del self._scopes[scope][command_id]
        self._world.changes.notify()

    def find(self, name: str, guild_id: int) -> Json:
        """The chat-input command called ``name``: the guild's first, then the global one."""
        for scope in (guild_id, None):
            for command in self._scopes.get(scope, {}).values():
                if command["name"] == name and command["type"] == CHAT_INPUT:
                    return command
        known = sorted(c["name"] for cmds in self._scopes.values() for c in cmds.values())
        raise LookupError(f"no synced slash command {name!r}; synced: {known}")

    def _normalise(self, scope: int | None, payload: Json, old_id: str | None) -> Json:
        command: Json = {
            "type": CHAT_INPUT,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            "contexts": None,
            "integration_types": [0],
            **copy.deepcopy(payload),
        }
        command["id"] = old_id or str(self._world.snowflakes.next())
        command["application_id"] = str(self._world.application_id)
        command["version"] = str(self._world.snowflakes.next())
        if scope is not None:
            command["guild_id"] = str(scope)
        return command


def _check_command(payload: Json, path: str, problems: dict[str, str]) -> None:
    name = payload.get("name") or ""
    command_type = payload.get("type", CHAT_INPUT)
    if command_type != CHAT_INPUT:
        if not 1 <= len(name) <= 32:
            problems[f"{path}.name"] = "Must be between 1 and 32 in length."
        return
    _check_named(payload, path, problems)
    _check_options(payload.get("options") or [], f"{path}.options", problems)


def _check_named(item: Json, path: str, problems: dict[str, str]) -> None:
    name = item.get("name") or ""
    if not _NAME.match(name) or name != name.lower():
        problems[f"{path}.name"] = "Command name is invalid"
    if not 1 <= len(item.get("description") or "") <= 100:
        problems[f"{path}.description"] = "Must be between 1 and 100 in length."


def _check_options(options: list[Json], path: str, problems: dict[str, str]) -> None:
    if len(options) > MAX_OPTIONS:
        problems[path] = f"Must be {MAX_OPTIONS} or fewer in length."
    seen_optional = False
    for index, option in enumerate(options):
        where = f"{path}.{index}"
        _check_named(option, where, problems)
        if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(option.get("options") or [], f"{where}.options", problems)
            continue
        if option.get("required"):
            if seen_optional:
                problems[f"{where}.required"] = "Required options must come before optional ones"
        else:
            seen_optional = True
        if len(option.get("choices") or []) > MAX_OPTIONS:
            problems[f"{where}.choices"] = f"Must be {MAX_OPTIONS} or fewer in length."
        if option.get("choices") and option.get("autocomplete"):
            problems[f"{where}.autocomplete"] = "Autocomplete cannot be set with choices"
