"""The store's own errors, raised by both databases (``core.store.conn.sqlite_error`` maps
``sqlite3``'s, ``core.store.postgres.store`` maps psycopg's by SQLSTATE), the driver's error kept
as ``__cause__``. Callers catch these, never a driver's.

``StoreError``
  ``IntegrityError``: a constraint refused the change (``unique`` tells a duplicate); its
  text is the same on both databases (``unique constraint failed: table (columns)``).
  ``Transient``: the database refused for now; the same call may pass later.
    ``Busy``: locked by another writer longer than the timeout.
    ``Unavailable``: connection lost or refused, disk full, I/O error, read-only.
    ``Conflict``: a deadlock or serialization failure; the transaction may run again whole.
  ``Abandoned`` (``core.store.calls``): the caller of the call was cancelled.
"""

from __future__ import annotations

from typing import Literal

Constraint = Literal["unique", "not_null", "foreign_key", "check", "other"]


class StoreError(Exception):
    """A database error; the text is one line, credentials removed."""


class IntegrityError(StoreError):
    """A constraint refused the change: ``constraint`` says which kind, ``table`` and
    ``columns`` where (empty when the database does not say)."""

    def __init__(
        self, constraint: Constraint, table: str = "", columns: tuple[str, ...] = ()
    ) -> None:
        self.constraint: Constraint = constraint
        self.table = table
        self.columns = columns
        super().__init__(integrity_text(constraint, table, columns))

    @property
    def unique(self) -> bool:
        """True for a duplicate of a unique key (or primary key)."""
        return self.constraint == "unique"


def integrity_text(constraint: Constraint, table: str, columns: tuple[str, ...]) -> str:
    """``unique constraint failed: tasks (name)``: the same text on both databases."""
    kind = "" if constraint == "other" else constraint.replace("_", " ") + " "
    text = f"{kind}constraint failed"
    where = f"{table} ({', '.join(columns)})" if table and columns else table
    return f"{text}: {where}" if where else text


class Transient(StoreError):
    """The database refused for now: trying the same call again later may work."""


class Busy(Transient):
    """Another writer held the database (or the rows) longer than the timeout."""


class Unavailable(Transient):
    """The database cannot be reached or written now: connection lost or refused, disk
    full, an I/O error, read-only."""


class Conflict(Transient):
    """The transaction was ended by the database to let another go on (deadlock,
    serialization failure); running it again whole is the remedy."""
