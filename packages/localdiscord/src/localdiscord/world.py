"""The simulated Discord world: the bot user, one guild with channels, roles and users."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from localdiscord.snowflake import SnowflakeGenerator
from localdiscord.waiting import Changes

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
ALL_PERMISSIONS = (1 << 51) - 1
# View channel, send messages, embed links, attach files, read history, add reactions,
# use application commands: roughly what a fresh guild grants @everyone.
DEFAULT_EVERYONE_PERMISSIONS = (
    (1 << 6) | (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
)
GUILD_TEXT = 0
PUBLIC_THREAD = 11


@dataclass(frozen=True)
class UserSpec:
    """A Discord user who is a member of the guild."""

    id: int
    name: str
    role_ids: tuple[int, ...] = ()
    bot: bool = False
    nick: str | None = None


@dataclass(frozen=True)
class RoleSpec:
    """A guild role; ``permissions`` is Discord's permission bit field."""

    id: int
    name: str
    permissions: int = 0
    position: int = 1


@dataclass(frozen=True)
class ChannelSpec:
    """A guild text channel."""

    id: int
    name: str
    topic: str | None = None
    position: int = 0
    type: int = GUILD_TEXT
    parent_id: int | None = None  # set for threads: the channel they were started in
    owner_id: int | None = None  # set for threads: who started it


@dataclass(frozen=True)
class Overwrite:
    """A channel's permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


_Spec = TypeVar("_Spec", "ChannelSpec", "UserSpec", "RoleSpec")
UserRef = UserSpec | int
ChannelRef = ChannelSpec | int
RoleRef = RoleSpec | int


@dataclass
class GuildSpec:
    """The one guild the bot is in."""

    id: int
    name: str
    owner_id: int | None = None
    channels: list[ChannelSpec] = field(default_factory=list)
    roles: list[RoleSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)
    threads: list[ChannelSpec] = field(default_factory=list)
    overwrites: dict[int, dict[int, Overwrite]] = field(default_factory=dict)  # by channel

    def channel(self, ref: ChannelRef) -> ChannelSpec:
        """Return the channel or thread with this id (or the spec itself); KeyError if unknown."""
        wanted = ref.id if isinstance(ref, ChannelSpec) else int(ref)
        return _find(self.channels + self.threads, wanted, "channel")

    def user(self, ref: UserRef) -> UserSpec:
        """Return the member with this id (or the spec itself); KeyError if unknown."""
        wanted = ref.id if isinstance(ref, UserSpec) else int(ref)
        return _find(self.users, wanted, "user")

    def role(self, ref: RoleRef) -> RoleSpec:
        """Return the role with this id (or the spec itself); KeyError if unknown."""
        wanted = ref.id if isinstance(ref, RoleSpec) else int(ref)
        return _find(self.roles, wanted, "role")

    def permissions_of(self, user: UserSpec) -> int:
        """Guild-level permissions of a member (no channel overwrites are modelled)."""
        if user.id == self.owner_id:
            return ALL_PERMISSIONS
        value = 0
        for role in self.roles:
            if role.id == self.id or role.id in user.role_ids:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def channel_permissions(self, user: UserSpec, channel: ChannelSpec) -> int:
        """A member's permissions in a channel (a thread: in its parent), after the channel's
        overwrites as Discord applies them: @everyone's, then the roles', then the member's."""
        value = self.permissions_of(user)
        if value & ADMINISTRATOR:
            return value
        found = self.overwrites.get(channel.parent_id or channel.id, {})
        everyone = found.get(self.id, Overwrite(self.id, 0))
        roles = [found[r] for r in user.role_ids if r in found]
        role_allow = role_deny = 0
        for role in roles:
            role_allow, role_deny = role_allow | role.allow, role_deny | role.deny
        member = found.get(user.id, Overwrite(user.id, 1))
        for allow, deny in (
            (everyone.allow, everyone.deny),
            (role_allow, role_deny),
            (member.allow, member.deny),
        ):
            value = (value & ~deny) | allow
        return value


def _find(items: list[_Spec], wanted: int, kind: str) -> _Spec:
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(f"unknown {kind} {wanted}")


@dataclass
class World:
    """Everything the fake Discord knows; shared by the gateway and the REST routes."""

    bot: UserSpec
    guild: GuildSpec
    token: str
    snowflakes: SnowflakeGenerator
    changes: Changes = field(default_factory=Changes)
    http_base: str = ""  # "http://127.0.0.1:PORT", known once the server listens

    @property
    def application_id(self) -> int:
        """The application id; like modern Discord apps, equal to the bot user's id."""
        return self.bot.id

    @property
    def gateway_url(self) -> str:
        """The websocket URL handed to discord.py (also used as resume_gateway_url)."""
        return self.http_base.replace("http://", "ws://", 1) + "/gateway/"
