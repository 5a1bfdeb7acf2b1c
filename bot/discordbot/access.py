"""Who may command the swarm, and the audit of every attempt."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from typing import Any

from bot.discordbot.settings import DiscordSettings

log = logging.getLogger(__name__)

# A command (or group) only swarm admins may use says so itself:
# ``@app_commands.command(..., extras=ADMIN_ONLY)``, or ``extras=`` of an ``app_commands.Command``
# or ``Group``; ``needed_for`` reads it, and the tree checks it before every command. Buttons
# name the access of each action beside it.
ADMIN_ONLY: dict[str, Any] = {"admin": True}


class Access(enum.IntEnum):
    """What a Discord user may do."""

    refused = 0
    user = 1
    admin = 2


def access_of(settings: DiscordSettings, user_id: int, role_ids: Iterable[int]) -> Access:
    """The access level of a user given its id and role ids."""
    roles = set(role_ids)
    if user_id in settings.admin_ids or roles & settings.admin_role_ids:
        return Access.admin
    if user_id in settings.user_ids or roles & settings.user_role_ids:
        return Access.user
    return Access.refused


def needed_for(command: Any) -> Access:
    """The access an app command needs: admin if it or a parent group is marked ADMIN_ONLY."""
    while command is not None:
        if getattr(command, "extras", {}).get("admin"):
            return Access.admin
        command = getattr(command, "parent", None)
    return Access.user


def refusal(command: str, needed: Access) -> str:
    """The short message a refused user sees."""
    if needed is Access.admin:
        return f"/{command} is for swarm admins only."
    return "You are not allowed to command this swarm. Ask an admin to add your id or role."
