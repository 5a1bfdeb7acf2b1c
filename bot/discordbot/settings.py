"""Discord settings from an environment mapping; the token is never printed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError
from core.settings.envvars import Parser, Setting, text

DISCORD_API = "https://discord.com/api/v10"
HOW_TO_GET_A_TOKEN = (
    "set DISCORD_TOKEN (create a bot at https://discord.com/developers/applications, "
    "Bot > Reset Token, invite it with the applications.commands and bot scopes), "
    "SWARM_GUILD_ID and SWARM_CHANNEL_ID in the environment or .env; "
    "or try the bot without a Discord application: swarm run --local-discord (or swarm demo)"
)


@dataclass(frozen=True)
class DiscordSettings:
    """Who the bot is, where it posts, and who may command it."""

    token: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    channel_id: int | None = None
    alerts_channel_id: int | None = None
    alerts_role_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    admin_role_ids: frozenset[int] = frozenset()
    user_ids: frozenset[int] = frozenset()
    user_role_ids: frozenset[int] = frozenset()
    notify: str = "normal"  # SWARM_NOTIFY: quiet, normal or verbose
    api_base: str = DISCORD_API  # DISCORD_API_BASE: the REST API swarm doctor checks
    reconnect_first_s: float = 1.0  # wait after a failed connection attempt, doubled per
    reconnect_max_s: float = 60.0  # ...failure up to this (not settings: tests pass their own)

    def require_connection(self) -> None:
        """ConfigError saying what to set when the bot cannot connect."""
        missing = [
            name
            for name, value in (
                ("DISCORD_TOKEN", self.token),
                ("SWARM_GUILD_ID", self.guild_id),
                ("SWARM_CHANNEL_ID", self.channel_id),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set: {HOW_TO_GET_A_TOKEN}")
        if not (self.admin_ids or self.admin_role_ids):
            raise ConfigError(
                "no admin configured: set SWARM_ADMIN_IDS (your Discord user id) "
                "or SWARM_ADMIN_ROLE_IDS, or nobody could pause the swarm"
            )


def _id(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a Discord id (a number), got {raw!r}")
    return int(raw)


def _ids(env: Mapping[str, str], name: str) -> frozenset[int]:
    raw = (env.get(name) or "").replace(",", " ").split()
    bad = [part for part in raw if not part.isdigit()]
    if bad:
        raise ConfigError(f"{name} must be Discord ids separated by commas, got {bad[0]!r}")
    return frozenset(int(part) for part in raw)


def _api_base(env: Mapping[str, str]) -> str:
    raw = (env.get("DISCORD_API_BASE") or DISCORD_API).strip().rstrip("/")
    if not raw.startswith(("https://", "http://")):
        raise ConfigError(f"DISCORD_API_BASE must be an http(s) URL, got {raw!r}")
    return raw


NOTIFY_LEVELS = ("quiet", "normal", "verbose")


def _notify(env: Mapping[str, str]) -> str:
    raw = (env.get("SWARM_NOTIFY") or "normal").strip().lower()
    if raw not in NOTIFY_LEVELS:
        raise ConfigError(f"SWARM_NOTIFY must be one of {', '.join(NOTIFY_LEVELS)}, got {raw!r}")
    return raw


def _by_name(parse: object) -> Parser:
    """A parser of ``bot/discordbot/settings.py`` (``(env, name)``) as a declaration's."""
    return lambda name, raw: parse({name: raw}, name)  # type: ignore[operator]


_ID, _IDS = _by_name(_id), _by_name(_ids)
# Discord's declarations: Config.discord builds DiscordSettings from them; the user config
# file's names are checked against them before the whole index (bot.settings_index) is
# imported, off the hook's path.
DISCORD: tuple[Setting, ...] = (
    Setting(
        "DISCORD_TOKEN", "token", None, text, "the bot's token", secret=True, unset="(not set)"
    ),
    Setting("SWARM_GUILD_ID", "guild_id", None, _ID, "the Discord server (guild) id"),
    Setting("SWARM_CHANNEL_ID", "channel_id", None, _ID, "the channel the swarm posts in"),
    Setting(
        "SWARM_ALERTS_CHANNEL_ID",
        "alerts_channel_id",
        None,
        _ID,
        "the channel of alerts",
        unset="(the channel)",
    ),
    Setting("SWARM_ALERTS_ROLE_ID", "alerts_role_id", None, _ID, "the role an alert mentions"),
    Setting("SWARM_ADMIN_IDS", "admin_ids", frozenset(), _IDS, "users who may administer"),
    Setting(
        "SWARM_ADMIN_ROLE_IDS", "admin_role_ids", frozenset(), _IDS, "roles who may administer"
    ),
    Setting("SWARM_USER_IDS", "user_ids", frozenset(), _IDS, "users who may command the swarm"),
    Setting("SWARM_USER_ROLE_IDS", "user_role_ids", frozenset(), _IDS, "roles who may command"),
    Setting(
        "SWARM_NOTIFY",
        "notify",
        "normal",
        lambda name, raw: _notify({name: raw}),
        "quiet, normal or verbose posts",
    ),
    Setting(
        "DISCORD_API_BASE",
        "api_base",
        DISCORD_API,
        lambda name, raw: _api_base({name: raw}),
        "Discord's REST API",
    ),
)
