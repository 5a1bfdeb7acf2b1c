"""Load and validate the agents file (``config/agents.toml``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.models import Agent

ALLOWED_KEYS = {"id", "role", "capabilities", "input", "watch", "capacity", "submit", "delivery"}
DELIVERY_METHODS = ("gui", "inbox")


def load_agents(path: Path) -> list[Agent]:
    """Read the agents file; raise ConfigError naming the file and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"agents file {path} does not exist (set SWARM_CONFIG or --config)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"agents file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"agents file {path} is not valid TOML: {exc}") from None
    entries = raw.get("agent")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"agents file {path} defines no agents: add [[agent]] tables")
    agents = [_parse_agent(path, i, entry) for i, entry in enumerate(entries, 1)]
    _check_unique(path, agents)
    return agents


def _parse_agent(path: Path, index: int, entry: Any) -> Agent:
    where = f"agents file {path}, agent #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(entry) - ALLOWED_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    agent_id = _text(entry, "id", where)
    where = f"agents file {path}, agent {agent_id}"
    caps = entry.get("capabilities", [])
    if not isinstance(caps, list) or not all(isinstance(c, str) and c for c in caps):
        raise ConfigError(f"{where}: capabilities must be a list of names")
    delivery = entry.get("delivery", "gui")
    if delivery not in DELIVERY_METHODS:
        raise ConfigError(f"{where}: delivery must be one of {', '.join(DELIVERY_METHODS)}")
    capacity = entry.get("capacity", 1)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ConfigError(f"{where}: capacity must be a whole number of at least 1")
    return Agent(
        id=agent_id,
        role=_text(entry, "role", where),
        capabilities=tuple(caps),
        input=_ints(entry.get("input"), 2, "input", where),
        watch=_region(entry.get("watch"), where),
        capacity=capacity,
        submit=str(entry.get("submit", "enter")),
        delivery=delivery,
    )


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _ints(value: Any, count: int, key: str, where: str) -> Any:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == count
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of {count} whole numbers")
    return tuple(value)


def _region(value: Any, where: str) -> tuple[int, int, int, int] | None:
    region = _ints(value, 4, "watch", where)
    if region is not None and (region[2] <= 0 or region[3] <= 0):
        raise ConfigError(f"{where}: watch width and height must be positive")
    return region


def _check_unique(path: Path, agents: list[Agent]) -> None:
    seen: set[str] = set()
    for agent in agents:
        if agent.id in seen:
            raise ConfigError(f"agents file {path}: agent id {agent.id} appears twice")
        seen.add(agent.id)
