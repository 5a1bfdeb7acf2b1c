"""Domain errors: every message is fit to show a user as it is (``SwarmError``), and the
store's own errors, raised by both databases (``StoreError``, below).

The store's errors (``core.store.conn.sqlite_error`` maps ``sqlite3``'s,
``core.store.postgres.store`` maps psycopg's by SQLSTATE) keep the driver's error as
``__cause__``; callers catch these, never a driver's, and the front ends map them to their
messages (``bot.errors``, ``bot.web.errors``):

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


class SwarmError(Exception):
    """Base of every error the user caused or can fix; the text is the whole message."""

    exit_code = 2


class ConfigError(SwarmError):
    """The agents file or the settings are missing or invalid."""


class NotFound(SwarmError):
    """An agent, task, plan or schedule that does not exist."""


class UnknownTask(NotFound):
    """A task id that is malformed or names no task in the database (the CLI names the
    database: the wrong SWARM_HOME is the usual cause)."""


class InvalidInput(SwarmError):
    """A value the user gave is not acceptable (empty title, bad priority, too long...)."""


class TooComplex(InvalidInput):
    """A check ran out of the work it may do for one call (file reservations' overlap
    checks: patterns of many wildcards against many others); nothing was done."""


class DependencyError(InvalidInput):
    """A dependency on a missing task, or one that would close a cycle."""


class MissingDependency(DependencyError):
    """A dependency on a task id that names no task in the database."""


class PersonOnly(SwarmError):
    """A person's decision (a prompt, a question, a gate, a credential...) asked for by an
    agent, or from an agent's terminal; nothing was done."""


class InvalidState(SwarmError):
    """The action does not fit the current state (done on a task that is not active...)."""


class Unassignable(InvalidInput):
    """No configured agent can take the task."""


class DatabaseTooNew(SwarmError):
    """The database was written by a newer version of swarm."""


class StorageError(SwarmError):
    """The state folder or database cannot be used (not a folder, read-only, damaged...)."""


class LockLost(StorageError):
    """The scheduler could no longer prove it holds its PostgreSQL lock; it stopped."""


class ReservationConflict(InvalidState):
    """A file reservation overlaps another agent's (the text names the holder, their
    pattern and task); nothing was reserved."""


class ReservationHeld(InvalidState):
    """An exclusive reservation too wide, or without a task, waits for a person's approval
    (the text names the item, ``H-4``); nothing is reserved until then."""


# The store's errors (both databases).

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
