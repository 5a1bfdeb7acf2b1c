"""Turning ``("task create", {"title": "x"})`` into a slash command's interaction data."""

from __future__ import annotations

from typing import Any

from localdiscord.commands import SUB_COMMAND, SUB_COMMAND_GROUP
from localdiscord.payloads import (
    interaction_member_payload,
    resolved_channel_payload,
    role_payload,
    user_payload,
)
from localdiscord.world import ChannelSpec, RoleSpec, UserSpec, World

Json = dict[str, Any]
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10


class OptionBuilder:
    """Builds ``data`` for one invocation of a synced command, checked like Discord's client."""

    def __init__(self, world: World, invoker: UserSpec, *, autocomplete: bool = False) -> None:
        self._world = world
        self._invoker = invoker
        self._autocomplete = autocomplete
        self._resolved: dict[str, dict[str, Json]] = {}

    def command_data(
        self, command: Json, path: list[str], values: dict[str, Any], focused: str | None = None
    ) -> Json:
        """The interaction ``data`` object for ``/name path... values``."""
        node, chain = command, []
        for part in path:
            node = _child(node, part)
            chain.append(node)
        subs = [o["name"] for o in node.get("options") or [] if o["type"] in (1, 2)]
        if subs:
            raise ValueError(f"/{_qualified(command, chain)} needs one of the subcommands {subs}")
        options = self._leaf_options(node, values, focused)
        for link in reversed(chain):
            options = [{"type": link["type"], "name": link["name"], "options": options}]
        data: Json = {"id": command["id"], "name": command["name"], "type": 1}
        if options:
            data["options"] = options
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if self._resolved:
            data["resolved"] = self._resolved
        return data

    def _leaf_options(self, node: Json, values: dict[str, Any], focused: str | None) -> list[Json]:
        definitions = {o["name"]: o for o in node.get("options") or []}
        unknown = sorted(set(values) - set(definitions))
        if unknown:
            raise ValueError(f"unknown options {unknown}; expected some of {sorted(definitions)}")
        if focused is not None and not definitions.get(focused, {}).get("autocomplete"):
            raise ValueError(f"option {focused!r} has no autocomplete")
        built: list[Json] = []
        for name, definition in definitions.items():
            if name == focused:
                value = str(values.get(name, ""))
                kind = definition["type"]
                built.append({"type": kind, "name": name, "value": value, "focused": True})
            elif name in values:
                built.append(self._option(definition, values[name]))
            elif definition.get("required") and not self._autocomplete:
                raise ValueError(f"missing required option {name!r}")
        return built

    def _option(self, definition: Json, value: Any) -> Json:
        kind = definition["type"]
        converted = self._convert(kind, definition["name"], value)
        if not self._autocomplete:
            _check_value(definition, converted)
        return {"type": kind, "name": definition["name"], "value": converted}

    def _convert(self, kind: int, name: str, value: Any) -> Any:
        if kind == STRING:
            return str(value)
        if kind == INTEGER and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if kind == BOOLEAN and isinstance(value, bool):
            return value
        if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            return self._resolve(kind, value)
        raise ValueError(f"option {name!r} (type {kind}) cannot take {value!r}")

    def _resolve(self, kind: int, value: Any) -> str:
        guild = self._world.guild
        if kind == MENTIONABLE and not isinstance(value, UserSpec | RoleSpec):
            kind = ROLE if any(role.id == int(value) for role in guild.roles) else USER
        elif kind == MENTIONABLE:
            kind = USER if isinstance(value, UserSpec) else ROLE
        if kind == USER:
            user = guild.user(value)
            self._add("users", user.id, user_payload(user))
            member = interaction_member_payload(guild, user)
            del member["user"]
            self._add("members", user.id, member)
            return str(user.id)
        if kind == ROLE:
            role = guild.role(value)
            self._add("roles", role.id, role_payload(role))
            return str(role.id)
        channel: ChannelSpec = guild.channel(value)
        self._add("channels", channel.id, resolved_channel_payload(guild, channel, self._invoker))
        return str(channel.id)

    def _add(self, kind: str, item_id: int, payload: Json) -> None:
        if not self._autocomplete:  # Discord sends no resolved data with autocomplete
            self._resolved.setdefault(kind, {})[str(item_id)] = payload


def _child(node: Json, name: str) -> Json:
    for option in node.get("options") or []:
        if option["name"] == name and option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            return option
    names = [o["name"] for o in node.get("options") or [] if o["type"] in (1, 2)]
    raise ValueError(f"{node['name']!r} has no subcommand {name!r}; it has {names}")


def _qualified(command: Json, chain: list[Json]) -> str:
    return " ".join([command["name"], *(link["name"] for link in chain)])


def _check_value(definition: Json, value: Any) -> None:
    name = definition["name"]
    choices = definition.get("choices") or []
    if choices and value not in [choice["value"] for choice in choices]:
        raise ValueError(f"option {name!r} must be one of the choices, not {value!r}")
    if isinstance(value, str):
        low, high = definition.get("min_length"), definition.get("max_length")
        size = len(value)
        if (low is not None and size < low) or (high is not None and size > high):
            raise ValueError(f"option {name!r} length {size} is outside [{low}, {high}]")
    elif definition["type"] in (INTEGER, NUMBER):
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"option {name!r} value {value} is outside [{low}, {high}]")
