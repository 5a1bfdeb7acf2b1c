"""Typed settings parsed from an environment mapping (``bot.config`` reads it once)."""

from __future__ import annotations

import atexit
import contextlib
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.agent_state import LIMIT_MAX_S
from core.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything the coordinator needs to know that is not in the agents file."""

    home: Path
    config_path: Path
    max_text: int = 8000
    max_title: int = 200
    lease_s: float = 300.0
    max_attempts: int = 3
    retry_backoff_s: float = 5.0
    retry_backoff_max_s: float = 300.0
    delivery_attempts: int = 3
    busy_timeout_s: float = 30.0
    success_window: float = 0.2
    keep_days: float = 90.0  # history and inbox files of finished work kept this long
    # PostgreSQL instead of the SQLite file (may hold a password: never in a repr or a log)
    database_url: str | None = field(default=None, repr=False)
    failover_s: float = 5.0  # a dead scheduler's successor takes over within this
    limit_backoff_s: float = 1800.0  # a usage limit without a reset time: no task for this long
    approval_wait_s: float = 120.0  # a PermissionRequest hook waits this long for a decision
    # a task's prompt waits while its agent's hook says it is mid-turn, the hook read at
    # most this long ago (SWARM_STALL_AFTER: older, the stall rules call the agent idle)
    turn_hold_s: float = 600.0
    # task merge over another agent's exclusive file reservation: "warn" (merged, with an
    # event) or "strict" (refused)
    reservations: str = "warn"

    @property
    def db_path(self) -> Path:
        """The SQLite file holding all state."""
        return self.home / "swarm.db"

    @property
    def database_shown(self) -> str:
        """Where the state lives, fit to log or print: the URL without credentials."""
        if self.database_url:
            from core.privacy.redact import redact_urls

            return redact_urls(self.database_url)
        return str(self.db_path)

    @functools.cached_property
    def custom_home(self) -> Path | None:
        """The home as an absolute path when it is not the default ``~/.swarm``: prompts name
        it, so that an agent's terminal reports to this database (worked out once: every
        prompt asks)."""
        home = self.home.absolute()
        return None if home == (Path.home() / ".swarm").absolute() else home

    @property
    def inbox_dir(self) -> Path:
        """Folder of per-agent inbox folders (the fallback delivery)."""
        return self.home / "inbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str], config: str | Path | None = None) -> Settings:
        """Build settings from ``env`` (``SWARM_HOME``, ``SWARM_LEASE``...)."""
        home = Path(env.get("SWARM_HOME") or Path.home() / ".swarm").expanduser()
        return cls(
            home=home,
            config_path=_config_path(env, home, config),
            max_text=env_int(env, "SWARM_MAX_TEXT", 8000),
            lease_s=env_seconds(env, "SWARM_LEASE", 300.0),
            max_attempts=env_int(env, "SWARM_MAX_ATTEMPTS", 3),
            retry_backoff_s=env_seconds(env, "SWARM_RETRY_BACKOFF", 5.0),
            delivery_attempts=env_int(env, "SWARM_DELIVERY_ATTEMPTS", 3),
            busy_timeout_s=env_seconds(env, "SWARM_BUSY_TIMEOUT", 30.0),
            keep_days=env_number(env, "SWARM_KEEP_DAYS", 90.0, minimum=1),
            database_url=database_url(env),
            failover_s=env_seconds(env, "SWARM_FAILOVER", 5.0),
            limit_backoff_s=env_seconds(env, "SWARM_LIMIT_BACKOFF", 1800.0),
            turn_hold_s=_turn_hold(env),
            approval_wait_s=env_number(
                env, "SWARM_APPROVAL_WAIT", 120.0, minimum=0, what="a number of seconds"
            ),
            reservations=reservations_mode(env),
        )


RESERVATION_MODES = ("warn", "strict")


def _turn_hold(env: Mapping[str, str]) -> float:
    """``SWARM_STALL_AFTER`` as the bound of a mid-turn hold; its default when the value is
    bad (the watcher's settings name it and stop ``swarm run``; an agent's report goes on)."""
    try:
        return env_number(env, "SWARM_STALL_AFTER", 600.0, minimum=1)
    except ConfigError:
        return 600.0


def reservations_mode(env: Mapping[str, str]) -> str:
    """``SWARM_RESERVATIONS``: ``warn`` (the default) or ``strict``; ConfigError otherwise."""
    raw = env.get("SWARM_RESERVATIONS", "").strip().lower() or "warn"
    if raw not in RESERVATION_MODES:
        raise ConfigError(
            f"SWARM_RESERVATIONS must be warn or strict, got {_show(env['SWARM_RESERVATIONS'])}"
        )
    return raw


def database_url(env: Mapping[str, str]) -> str | None:
    """``SWARM_DATABASE_URL`` when set: a ``postgresql://`` URL; ConfigError otherwise."""
    raw = env.get("SWARM_DATABASE_URL", "").strip()
    if not raw:
        return None
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in {"postgresql", "postgres"}:
        from core.privacy.redact import redact_urls

        raise ConfigError(
            f"SWARM_DATABASE_URL must be a postgresql:// URL, got {_show(redact_urls(raw))}"
        )
    return raw


def _config_path(env: Mapping[str, str], home: Path, explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env.get("SWARM_CONFIG"):
        return Path(env["SWARM_CONFIG"]).expanduser()
    in_home = home / "agents.toml"
    return in_home if in_home.is_file() else bundled_agents_file()


def bundled_agents_file() -> Path:
    """The agents file shipped with swarm (package data ``core/bundled/agents.toml``)."""
    return bundled_file("agents.toml")


@functools.cache
def bundled_file(name: str) -> Path:
    """A file or folder shipped with swarm under ``core/bundled/`` (package data)."""
    from importlib.resources import as_file, files  # ~10 ms: only when it is needed

    resource = files("core") / "bundled" / name
    if isinstance(resource, Path):
        return resource
    stack = contextlib.ExitStack()  # installed as a zip: a temporary copy for this process
    atexit.register(stack.close)
    return stack.enter_context(as_file(resource))


# Ranges of the numeric settings (inclusive unless noted); anything else is refused with a
# one-line error naming the variable. Seconds default to (0, 1 week], counts to [min, 10**6].
SECONDS_MAX = 7 * 24 * 3600.0
COUNT_MAX = 1_000_000
RANGES: dict[str, tuple[float, float]] = {
    "SWARM_MAX_TEXT": (1, 100_000),
    "SWARM_MAX_ATTEMPTS": (1, 100),
    "SWARM_DELIVERY_ATTEMPTS": (1, 100),
    "SWARM_BUSY_TIMEOUT": (0, 3600),
    "SWARM_RETRY_BACKOFF": (0, 3600),
    "SWARM_KEEP_DAYS": (0, 36_500),
    "SWARM_FAILOVER": (0, 600),
    "SWARM_LIMIT_BACKOFF": (0, LIMIT_MAX_S),  # no usage limit holds longer than a week
    "SWARM_APPROVAL_WAIT": (0, 3600),
    "SWARM_AI_RETRIES": (0, 10),
    "SWARM_AI_TIMEOUT": (0.01, 3600),
    "SWARM_AI_BACKOFF": (0, 600),
    "SWARM_MAX_NUDGES": (0, 1000),
    "SWARM_PLAN_MAX_TASKS": (1, 500),
    "SWARM_LOG_MAX_BYTES": (10_000, 10**10),
    "SWARM_LOG_BACKUPS": (1, 100),
    "SWARM_CI_RETRIES": (0, 20),
    "SWARM_GITHUB_POLL": (1, 3600),
}


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from ``env[name]``; ConfigError naming it otherwise."""
    return int(env_number(env, name, default, minimum=1, whole=True))


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``env[name]``; ConfigError naming it otherwise."""
    raw = env.get(name, "").strip()
    if raw and _parse(name, raw, False, "a number of seconds") <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {raw}")
    return env_number(env, name, default, minimum=0, what="a number of seconds")


def env_number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    whole: bool = False,
    what: str = "a number",
) -> float:
    """``env[name]`` as a finite number in its range (``RANGES``, else ``minimum`` up to
    ``SECONDS_MAX`` / ``COUNT_MAX``); ConfigError naming it otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = _parse(name, raw, whole, what)
    low, high = RANGES.get(name, (minimum, COUNT_MAX if whole else SECONDS_MAX))
    low = max(low, minimum)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {_show(raw)}")
    return value


def _parse(name: str, raw: str, whole: bool, what: str) -> float:
    """``raw`` as an int (``whole``) or a finite float; ConfigError naming ``name``."""
    kind = "a whole number" if whole else what
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {_show(raw)}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be {kind} (finite), got {_show(raw)}")
    return value


def _show(raw: str) -> str:
    """``raw`` quoted, shortened and with control characters escaped (for one-line errors)."""
    return repr(raw if len(raw) <= 40 else raw[:37] + "...")
