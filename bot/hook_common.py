"""What both ends of a hook share, below them: ``swarm hook`` (``bot.cli.hook``, the
database path) and the coordinator's hook socket (``bot.hook_server``) judge an agent's
observations with the same freshness and say a refused event in the same line. Neither
front end imports the other."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.agents import Freshness
from core.errors import ConfigError
from core.watch.settings import WatchSettings

if TYPE_CHECKING:
    from bot.config import Config
    from core.agents import HookEvent, Refused

log = logging.getLogger(__name__)


def hook_refusal(event: HookEvent, refused: Refused) -> str:
    """The one line a refused hook event is said in."""
    return (f"{event.name} in {refused.named}'s name refused: {refused.why}; nothing "
            "recorded")  # fmt: skip


def freshness(config: Config) -> Freshness:
    """How long observations count (the watch settings; their defaults if one is bad)."""
    try:
        watch = config.watch
    except ConfigError as exc:
        log.warning("swarm hook: %s: using the default watch settings", exc)
        watch = WatchSettings()
    return Freshness.of(watch.interval_s, watch.stall_after_s, config.core.limit_backoff_s)
