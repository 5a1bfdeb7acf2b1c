"""The numbered schema migrations, as each database runs them: ``core/store/schema/``.

Migration ``n`` is ``NNNN.sqlite.sql`` and ``NNNN.postgres.sql`` (or one ``NNNN.sql`` both run
as written): its statements, each after a ``-- step`` line, applied in one transaction. The
text is run as written, never rewritten. Comments above the first step say why. Never edit a
released migration: add the next number.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

SCHEMA = Path(__file__).with_name("schema")
STEP = "-- step"
DIALECTS = ("sqlite", "postgres")


def _numbers() -> list[int]:
    """The migration numbers found in the folder (a directory listing: cheap at import)."""
    return sorted({int(name.split(".")[0]) for name in os.listdir(SCHEMA) if name[:4].isdigit()})


@functools.cache
def migrations(dialect: str) -> tuple[tuple[str, ...], ...]:
    """Each migration's statements as ``dialect`` (``sqlite`` or ``postgres``) runs them."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    return tuple(_statements(_file(number, dialect)) for number in range(1, LATEST + 1))


def _file(number: int, dialect: str) -> Path:
    own = SCHEMA / f"{number:04d}.{dialect}.sql"
    return own if own.exists() else SCHEMA / f"{number:04d}.sql"


def _statements(path: Path) -> tuple[str, ...]:
    """The statements of one migration file: the text after each ``-- step`` line."""
    _, *steps = ("\n" + path.read_text(encoding="utf-8")).split(f"\n{STEP}\n")
    return tuple(step.strip() for step in steps if step.strip())  # not the comments above


LATEST = len(_numbers())


def migrated_text(before: int, after: int) -> str:
    """The one line a migration run logs: ``database created (schema version 33)`` or
    ``database migrated from schema version 30 to 33``."""
    if before == 0:
        return f"database created (schema version {after})"
    return f"database migrated from schema version {before} to {after}"
