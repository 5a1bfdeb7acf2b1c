"""Watcher settings from an environment mapping, in seconds unless said otherwise."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigError
from core.settings import env_number

OFF = {"off", "no", "none", "false", "0"}


@dataclass(frozen=True)
class WatchSettings:
    """When an agent counts as stalled, how it is nudged, when its task is taken back."""

    interval_s: float = 5.0
    stall_after_s: float = 600.0
    nudge_cooldown_s: float = 300.0
    max_nudges: int = 2
    reassign_after_s: float = 1800.0
    grace_s: float = 120.0
    unreachable_after: int = 3
    daily_summary: str | None = "0 18 * * *"
    limit_handoff_s: float | None = 300.0  # a limited agent's tasks go on after this; None: kept

    @property
    def echo_s(self) -> float:
        """Screen changes this soon after a delivery to the agent are our own paste."""
        return 2 * self.interval_s

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WatchSettings:
        """Read ``SWARM_WATCH_INTERVAL``, ``SWARM_STALL_AFTER``... from ``env``."""
        seconds = functools.partial(env_number, env, what="a number of seconds")
        count = functools.partial(env_number, env, whole=True)
        settings = cls(
            interval_s=seconds("SWARM_WATCH_INTERVAL", 5.0, minimum=0.1),
            stall_after_s=seconds("SWARM_STALL_AFTER", 600.0, minimum=1),
            nudge_cooldown_s=seconds("SWARM_NUDGE_COOLDOWN", 300.0, minimum=0),
            max_nudges=int(count("SWARM_MAX_NUDGES", 2, minimum=0)),
            reassign_after_s=seconds("SWARM_REASSIGN_AFTER", 1800.0, minimum=1),
            grace_s=seconds("SWARM_GRACE", 120.0, minimum=0),
            unreachable_after=int(count("SWARM_UNREACHABLE_AFTER", 3, minimum=1)),
            daily_summary=_daily(env),
            limit_handoff_s=_handoff(env),
        )
        if settings.reassign_after_s < settings.stall_after_s:
            raise ConfigError(
                f"SWARM_REASSIGN_AFTER ({settings.reassign_after_s:g} s) must not be shorter "
                f"than SWARM_STALL_AFTER ({settings.stall_after_s:g} s)"
            )
        return settings


def _handoff(env: Mapping[str, str]) -> float | None:
    """``SWARM_LIMIT_HANDOFF``: seconds a limited agent keeps its tasks (``0``: none), or
    ``off`` (it keeps them until its limit ends)."""
    raw = env.get("SWARM_LIMIT_HANDOFF", "").strip()
    if raw.lower() in OFF - {"0"}:
        return None
    return env_number(env, "SWARM_LIMIT_HANDOFF", 300.0, minimum=0, what="a number of seconds")


def _daily(env: Mapping[str, str]) -> str | None:
    """``SWARM_DAILY_SUMMARY``: a cron expression (local time) or ``off``."""
    raw = env.get("SWARM_DAILY_SUMMARY", "").strip()
    if not raw:
        return WatchSettings.daily_summary
    if raw.lower() in OFF:
        return None
    from core.schedules.timing import InvalidSchedule, cron_trigger

    try:
        cron_trigger(raw)
    except InvalidSchedule as exc:
        raise ConfigError(f"SWARM_DAILY_SUMMARY: {exc}") from None
    return " ".join(raw.split())
