"""Domain errors: every message is fit to show a user as it is."""

from __future__ import annotations


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
