"""Every setting, by part, in ``swarm config show``'s order: each part's declarations
(``core/settings/envvars.py``) gathered here, for the user config file's known names, the secrets
that are never printed, ``swarm config show`` and the check of the docs.

Imported only where the whole list is needed (a user config file to check, ``config show``,
``doctor``): a command reads its own part's declarations, not this.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from automation.gui_options import GUI
from bot.discordbot.settings import DISCORD_API, _api_base, _id, _ids, _notify
from bot.web.settings import WEB
from core.ai.settings import AI
from core.github.settings import GITHUB
from core.settings import CORE
from core.settings.envvars import Parser, Setting, text
from core.watch.settings import WATCH


def _by_name(parse: object) -> Parser:
    """A parser of ``bot/discordbot/settings.py`` (``(env, name)``) as a declaration's."""
    return lambda name, raw: parse({name: raw}, name)  # type: ignore[operator]


_ID, _IDS = _by_name(_id), _by_name(_ids)
# Discord's, declared here until bot/discordbot/settings.py declares them itself: Config.discord
# builds DiscordSettings from these (its from_env is no longer called).
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
PARTS: Mapping[str, tuple[Setting, ...]] = {
    "core": CORE,
    "discord": DISCORD,
    "ai": AI,
    "watch": WATCH,
    "gui": GUI,
    "web": WEB,
    "github": GITHUB,
}


@functools.cache
def every_setting() -> dict[str, tuple[str, Setting]]:
    """Each setting by name, with the part (``Config``'s section) it belongs to, in order."""
    return {s.name: (part, s) for part, table in PARTS.items() for s in table}


def secret_names() -> frozenset[str]:
    """The settings never printed or logged (``swarm config show``: ``(set, hidden)``)."""
    return frozenset(name for name, (_, s) in every_setting().items() if s.secret)
