"""``swarm doctor`` on PostgreSQL: the database (reachable, its schema) and the scheduler
lock's holder, named without the URL's credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cli.findings import OK, PROBLEM, Finding
from core.errors import StorageError

if TYPE_CHECKING:
    from bot.config import Config

CONNECT_S = 5.0


def database(config: Config) -> list[Finding]:
    """Connect; report the schema version (writes nothing)."""
    from core.database import postgres_schema

    shown = config.core.database_shown
    assert config.core.database_url is not None
    try:
        schema = postgres_schema(config.core.database_url, CONNECT_S)
    except StorageError as exc:
        return [Finding("database", PROBLEM, str(exc))]
    if schema.too_new:
        return [
            Finding(
                "database",
                PROBLEM,
                f"{shown}: schema v{schema.version} is newer than this swarm "
                f"(v{schema.latest}): upgrade swarm",
            )
        ]
    state = f"schema v{schema.version}" if schema.version else "empty: created on first use"
    return [Finding("database", OK, f"{shown} (reachable, {state})")]


def coordinator(config: Config) -> list[Finding]:
    """Who holds the scheduler lock of the database, on any machine."""
    from core.coordinator.db_lock import running_at
    from core.formats.jsonshape import iso_utc

    assert config.core.database_url is not None
    try:
        running = running_at(config.core.database_url, CONNECT_S)
    except StorageError as exc:
        return [Finding("coordinator", PROBLEM, f"unknown: {exc}")]
    if running is None:
        return [
            Finding(
                "coordinator",
                PROBLEM,
                "no 'swarm run' holds the scheduler lock of this database (nothing is assigned)",
            )
        ]
    return [Finding("coordinator", OK, f"scheduler pid {running[0]} since {iso_utc(running[1])}")]
