"""``swarm db copy``: what to copy, checked before anything is held or read (``plan``), and
the copy itself (``run``: ``core.store.db_copy``, one snapshot of the source, one
transaction on the destination, checked by counts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import ConfigError
from core.privacy.redact import redact_urls

if TYPE_CHECKING:
    from core.store.db_copy import CopyReport

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class CopyPlan:
    """A copy of the SQLite file ``source`` into the PostgreSQL database ``target``."""

    source: Path
    target: str

    @property
    def home(self) -> Path:
        """The source's home (its coordinator lock is held while the copy runs)."""
        return self.source.parent

    @property
    def target_shown(self) -> str:
        """The destination without its credentials."""
        return redact_urls(self.target)


def plan(source: str, target: str) -> CopyPlan:
    """``--from sqlite:///PATH`` and ``--to postgresql://...`` checked: ConfigError (the
    URL shown without credentials) for a bad URL or a missing file, or when psycopg is not
    installed."""
    from core.store.db_copy import sqlite_path

    path = sqlite_path(source)
    target = target.strip()
    if "://" not in target or target.split("://", 1)[0].lower() not in SCHEMES:
        raise ConfigError(f"--to must be a postgresql:// URL, got {redact_urls(target)!r}")
    try:
        from core.store.postgres import store  # noqa: F401  (psycopg is installed)
    except ImportError:
        raise ConfigError("swarm db copy needs psycopg: pip install 'swarm[postgresql]'") from None
    return CopyPlan(path, target)


def run(copy: CopyPlan) -> CopyReport:
    """Copy every table (blocking: call it in a thread); the rows per table, each count
    checked equal in both databases. A failure anywhere writes nothing."""
    from core.store.db_copy import copy as copy_tables

    return copy_tables(copy.source, copy.target)
