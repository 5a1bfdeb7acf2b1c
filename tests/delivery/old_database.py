"""A database made with an earlier schema version and rows of that time, on either backend:
what an upgrade test opens with today's swarm."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from core.store import sqlite as dbmod
from core.store.migrations import migrations


@contextlib.contextmanager
def old_database(
    backend: str, request: pytest.FixtureRequest, home: Path, before: int, rows: Sequence[str]
) -> Iterator[Settings]:
    """Settings on a database migrated to version ``before``, holding ``rows`` (statements)."""
    url = ""
    if backend == "sqlite":
        home.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(home / "swarm.db")) as lite:
            lite.isolation_level = None
            dbmod.migrate(lite, target=before)
            for statement in rows:
                lite.execute(statement)
    else:
        import psycopg

        from core.store.postgres.store import connect, migrate

        server: Any = request.getfixturevalue("pg_server")
        name = f"swarm_old_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server.cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        url = server.cluster.url(name)
        pg = connect(url)
        try:
            assert migrate(pg, migrations("postgres")[:before]) == before
            for statement in rows:
                pg.raw.execute(statement)
        finally:
            pg.raw.close()
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_DATABASE_URL": url})
    try:
        yield settings
    finally:
        if url:
            server.drop(url)
