"""Typed settings parsed from an environment mapping (``bot.config`` reads it once)."""

from __future__ import annotations

import atexit
import contextlib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def db_path(self) -> Path:
        """The SQLite file holding all state."""
        return self.home / "swarm.db"

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
        )


def _config_path(env: Mapping[str, str], home: Path, explicit: str | Path | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env.get("SWARM_CONFIG"):
        return Path(env["SWARM_CONFIG"]).expanduser()
    in_home = home / "agents.toml"
    return in_home if in_home.is_file() else bundled_agents_file()


@functools.cache
def bundled_agents_file() -> Path:
    """The agents file shipped with swarm (package data ``core/bundled/agents.toml``)."""
    from importlib.resources import as_file, files  # ~10 ms: only when it is needed

    resource = files("core") / "bundled" / "agents.toml"
    if isinstance(resource, Path):
        return resource
    stack = contextlib.ExitStack()  # installed as a zip: a temporary copy for this process
    atexit.register(stack.close)
    return stack.enter_context(as_file(resource))


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from ``env[name]``; ConfigError naming it otherwise."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``env[name]``; ConfigError naming it otherwise."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {raw}")
    return value


def env_number(env: Mapping[str, str], name: str, default: float, *, minimum: float,
               whole: bool = False, what: str = "a number") -> float:
    """``env[name]`` as a number of at least ``minimum``; ConfigError naming it otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else what
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw}")
    return value
