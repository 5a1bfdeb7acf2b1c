"""Every setting, by part, in ``swarm config show``'s order: each part's declarations
(``core/settings/envvars.py``) gathered here, for the user config file's known names, the secrets
that are never printed, ``swarm config show`` and the check of the docs.

Imported only where the whole list is needed (a user config file to check, ``config show``,
``doctor``): a command reads its own part's declarations, not this.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from automation.desktop.gui_options import GUI
from bot.discordbot.settings import DISCORD
from bot.slack.settings import SLACK
from bot.telegram.settings import TELEGRAM
from bot.web.settings import WEB
from core.ai import AI
from core.github.settings import GITHUB
from core.settings import CORE
from core.settings.envvars import Setting
from core.watch.settings import WATCH

PARTS: Mapping[str, tuple[Setting, ...]] = {
    "core": CORE,
    "discord": DISCORD,
    "ai": AI,
    "watch": WATCH,
    "gui": GUI,
    "web": WEB,
    "github": GITHUB,
    "telegram": TELEGRAM,
    "slack": SLACK,
}


@functools.cache
def every_setting() -> dict[str, tuple[str, Setting]]:
    """Each setting by name, with the part (``Config``'s section) it belongs to, in order."""
    return {s.name: (part, s) for part, table in PARTS.items() for s in table}


def secret_names() -> frozenset[str]:
    """The settings never printed or logged (``swarm config show``: ``(set, hidden)``)."""
    return frozenset(name for name, (_, s) in every_setting().items() if s.secret)
