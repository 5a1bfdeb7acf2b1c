"""``swarm doctor``'s look at the database, writing nothing: whether the SQLite file can be
written now, and the PostgreSQL database's schema (reachable within a timeout, its version
against this swarm's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import StoreError


def sqlite_problem(path: Path, busy_timeout_s: float) -> str | None:
    """Why the existing SQLite file ``path`` cannot be written now (read-only, locked past
    ``busy_timeout_s``, not a database: the store's one-line error); None when it can. Its
    write lock is taken and let go, nothing written."""
    from core.store.sqlite import check_writable

    try:
        check_writable(path, busy_timeout_s)
    except StoreError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Schema:
    """A database's schema version (0: empty, made on first use) and this swarm's."""

    version: int
    latest: int

    @property
    def too_new(self) -> bool:
        """Written by a newer swarm: this one must not use it."""
        return self.version > self.latest


def postgres_schema(url: str, connect_s: float) -> Schema:
    """The schema of the PostgreSQL database at ``url``, connected within ``connect_s``;
    StorageError (one line, no credentials) when it cannot be reached."""
    from core.store.migrations import LATEST
    from core.store.postgres.store import connect, schema_version

    conn = connect(url, connect_s)
    try:
        return Schema(schema_version(conn), LATEST)
    finally:
        conn.raw.close()
