"""Watcher settings from an environment mapping, in seconds unless said otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import ConfigError
from core.settings import STALL_AFTER
from core.settings.envvars import Setting, count, defaults, read_fields, seconds

OFF = {"off", "no", "none", "false", "0"}


def _handoff(name: str, raw: str) -> float | None:
    """Seconds a limited agent keeps its tasks (``0``: none), or ``off`` (it keeps them until
    its limit ends)."""
    if raw.strip().lower() in OFF - {"0"}:
        return None
    return float(seconds()(name, raw))


def _daily(name: str, raw: str) -> str | None:
    """A cron expression (local time) or ``off``."""
    raw = raw.strip()
    if raw.lower() in OFF:
        return None
    from core.schedules.timing import InvalidSchedule, cron_trigger

    try:
        cron_trigger(raw)
    except InvalidSchedule as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return " ".join(raw.split())


WATCH: tuple[Setting, ...] = (
    Setting(
        "SWARM_WATCH_INTERVAL",
        "interval_s",
        5.0,
        seconds(0.1),
        "seconds between two looks at the agents",
    ),
    STALL_AFTER,
    Setting(
        "SWARM_UNREACHABLE_AFTER",
        "unreachable_after",
        3,
        count(1),
        "failed deliveries in a row before an agent counts as unreachable",
    ),
    Setting(
        "SWARM_NUDGE_COOLDOWN",
        "nudge_cooldown_s",
        300.0,
        seconds(0),
        "seconds between two nudges of a stalled agent",
    ),
    Setting("SWARM_MAX_NUDGES", "max_nudges", 2, count(0, 1000), "nudges before an alert"),
    Setting(
        "SWARM_REASSIGN_AFTER",
        "reassign_after_s",
        1800.0,
        seconds(1),
        "seconds stalled before the agent's task is reassigned",
    ),
    Setting(
        "SWARM_DAILY_SUMMARY",
        "daily_summary",
        "0 18 * * *",
        _daily,
        "when the daily summary is posted (cron, local time), or off",
    ),
    Setting(
        "SWARM_LIMIT_HANDOFF",
        "limit_handoff_s",
        300.0,
        _handoff,
        "seconds a limited agent keeps its tasks, or off",
    ),
    Setting("SWARM_GRACE", "grace_s", 120.0, seconds(0), "seconds a new task is not yet stalled"),
    Setting(
        "SWARM_HOOKS_SILENT_AFTER",
        "hooks_silent_s",
        30.0,
        seconds(1),
        "seconds after a prompt reached a hooked agent before its silent hooks are an alert",
    ),
)
_DEFAULT = defaults(WATCH)


@dataclass(frozen=True)
class WatchSettings:
    """When an agent counts as stalled, how it is nudged, when its task is taken back."""

    interval_s: float = _DEFAULT["interval_s"]
    stall_after_s: float = _DEFAULT["stall_after_s"]
    nudge_cooldown_s: float = _DEFAULT["nudge_cooldown_s"]
    max_nudges: int = _DEFAULT["max_nudges"]
    reassign_after_s: float = _DEFAULT["reassign_after_s"]
    grace_s: float = _DEFAULT["grace_s"]
    unreachable_after: int = _DEFAULT["unreachable_after"]
    daily_summary: str | None = _DEFAULT["daily_summary"]
    # a limited agent's tasks go on after this; None: kept
    limit_handoff_s: float | None = _DEFAULT["limit_handoff_s"]
    hooks_silent_s: float = _DEFAULT["hooks_silent_s"]

    @property
    def echo_s(self) -> float:
        """Screen changes this soon after a delivery to the agent are our own paste."""
        return 2 * self.interval_s

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WatchSettings:
        """Read ``WATCH`` (``SWARM_WATCH_INTERVAL``, ``SWARM_STALL_AFTER``...) from ``env``."""
        settings = cls(**read_fields(WATCH, env))
        if settings.reassign_after_s < settings.stall_after_s:
            raise ConfigError(
                f"SWARM_REASSIGN_AFTER ({settings.reassign_after_s:g} s) must not be shorter "
                f"than SWARM_STALL_AFTER ({settings.stall_after_s:g} s)"
            )
        return settings
