"""Complete Discord JSON objects (API v10) for users, members, roles, channels and guilds.

discord.py indexes many keys directly, so every object carries all documented fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from localdiscord.snowflake import iso_timestamp, snowflake_time
from localdiscord.world import ChannelSpec, GuildSpec, RoleSpec, UserSpec, World

Json = dict[str, Any]


def user_payload(user: UserSpec) -> Json:
    """A user object."""
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0000" if user.bot else "0",
        "global_name": None if user.bot else user.name,
        "avatar": None,
        "bot": user.bot,
        "system": False,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "avatar_decoration_data": None,
    }


def current_user_payload(user: UserSpec) -> Json:
    """The ``GET /users/@me`` object: a user plus account fields."""
    return {
        **user_payload(user),
        "verified": True,
        "mfa_enabled": False,
        "locale": "en-US",
        "flags": 0,
        "email": None,
    }


def member_payload(guild: GuildSpec, user: UserSpec, *, with_user: bool = True) -> Json:
    """A guild member object (``with_user=False`` for the partial form in messages)."""
    joined = snowflake_time(min(guild.id, user.id))
    payload: Json = {
        "nick": user.nick,
        "avatar": None,
        "banner": None,
        "roles": [str(role_id) for role_id in user.role_ids],
        "joined_at": iso_timestamp(joined),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "avatar_decoration_data": None,
    }
    if with_user:
        payload["user"] = user_payload(user)
    return payload


def interaction_member_payload(guild: GuildSpec, user: UserSpec) -> Json:
    """A member object as sent in interactions: with the resolved ``permissions``."""
    return {**member_payload(guild, user), "permissions": str(guild.permissions_of(user))}


def role_payload(role: RoleSpec) -> Json:
    """A role object."""
    return {
        "id": str(role.id),
        "name": role.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def channel_payload(guild: GuildSpec, channel: ChannelSpec) -> Json:
    """A guild text channel or thread object."""
    payload: Json = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(guild.id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in guild.overwrites.get(channel.id, {}).values()
        ],
        "nsfw": False,
        "topic": channel.topic,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "last_pin_timestamp": None,
        "default_auto_archive_duration": 1440,
        "flags": 0,
    }
    if channel.parent_id is not None:
        payload.update(
            owner_id=str(channel.owner_id),
            message_count=0,
            member_count=1,
            thread_metadata={
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2020-01-01T00:00:00+00:00",
                "locked": False,
            },
        )
    return payload


def resolved_channel_payload(guild: GuildSpec, channel: ChannelSpec, user: UserSpec) -> Json:
    """A partial channel as found in an interaction's ``resolved`` data."""
    return {**channel_payload(guild, channel), "permissions": str(guild.permissions_of(user))}


def guild_payload(guild: GuildSpec) -> Json:
    """A guild object as returned by ``GET /guilds/{id}``."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id) if guild.owner_id else None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role_payload(role) for role in guild.roles],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500_000,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "approximate_member_count": len(guild.users),
        "approximate_presence_count": 0,
    }


def guild_create_payload(world: World) -> Json:
    """The GUILD_CREATE dispatch: a guild plus channels, members and join state."""
    guild = world.guild
    members = [member_payload(guild, user) for user in guild.users]
    return {
        **guild_payload(guild),
        "joined_at": iso_timestamp(dt.datetime.now(dt.UTC)),
        "large": False,
        "unavailable": False,
        "member_count": len(guild.users),
        "voice_states": [],
        "members": members,
        "channels": [channel_payload(guild, channel) for channel in guild.channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def application_payload(world: World) -> Json:
    """The ``GET /oauth2/applications/@me`` object."""
    return {
        "id": str(world.application_id),
        "name": world.bot.name,
        "icon": None,
        "description": "",
        "summary": "",
        "rpc_origins": [],
        "bot_public": False,
        "bot_require_code_grant": False,
        "bot": user_payload(world.bot),
        "owner": user_payload(_owner(world)),
        "team": None,
        "verify_key": f"{world.application_id:064x}"[-64:],
        "flags": 0,
        "tags": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "approximate_guild_count": 1,
        "redirect_uris": [],
    }


def _owner(world: World) -> UserSpec:
    owner_id = world.guild.owner_id
    for user in world.guild.users:
        if user.id == owner_id:
            return user
    return world.bot


def ready_payload(world: World, session_id: str, shard: list[int] | None) -> Json:
    """The READY dispatch: the guild is announced as unavailable, GUILD_CREATE follows."""
    payload: Json = {
        "v": 10,
        "user": current_user_payload(world.bot),
        "guilds": [{"id": str(world.guild.id), "unavailable": True}],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": world.gateway_url,
        "application": {"id": str(world.application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "geo_ordered_rtc_regions": [],
        "guild_join_requests": [],
        "user_settings": {},
        "_trace": ["localdiscord"],
    }
    if shard is not None:
        payload["shard"] = shard
    return payload
