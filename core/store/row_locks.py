"""Row locks for the store's read-then-write functions: named operations, one per database.

A write function that reads a row and then writes on what it read (a task's status, a
delivery's state, a campaign's end, a dependency's status) calls ``hold`` first, so that a
concurrent writer of the same row waits until this transaction ends and then reads what it
wrote. On PostgreSQL, where write transactions run side by side at ``READ COMMITTED``, that is
``SELECT ... FOR UPDATE`` on the rows (ids in order: two writers never hold each other's rows
crosswise). On SQLite, ``BEGIN IMMEDIATE`` already holds the whole database for the
transaction, so there is nothing more to take. ``hold_key`` is for an invariant over a whole
table (no row to lock: two reservations of overlapping globs), a lock of its own on
PostgreSQL; ``hold_found`` holds the rows a caller's own ``SELECT ... FOR UPDATE`` picks (a
join: a finished task's dependents) and says whether there were any. The cases, and why each
lock is there: docs/decisions/0007-write-races.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeGuard, runtime_checkable

from core.store.capability import implements
from core.store.conn import Conn, Params, Sql

# The tables whose rows a write function may hold (names go into SQL: only these).
TABLES = frozenset({"tasks", "deliveries", "campaigns", "prompts", "questions", "schedules"})
# Invariants over a whole table, each with a lock of its own (PostgreSQL advisory locks).
KEYS = {
    "reservations": 0x5357_0010,
    "dialogs": 0x5357_0011,  # a hook's prompt and the pane's of one dialog: one item
}


@runtime_checkable
class RowLocking(Protocol):
    """A connection whose write transactions run beside others (PostgreSQL's)."""

    def hold_rows(self, table: str, ids: list[int]) -> None:
        """Lock ``ids`` of ``table`` until the transaction ends."""

    def hold_key(self, key: int) -> None:
        """Take the transaction-scoped lock ``key``."""


def _locks_rows(conn: Conn) -> TypeGuard[RowLocking]:
    """Whether ``conn`` locks rows (decided once per connection class)."""
    return implements(conn, RowLocking)


def hold(conn: Conn, table: str, ids: Iterable[int]) -> None:
    """Keep other writers off these rows of ``table`` until this write transaction ends
    (a missing id is no error: the caller's own read says NotFound)."""
    if table not in TABLES:
        raise ValueError(f"no row locks on table {table!r}")
    wanted = sorted({int(i) for i in ids})
    if wanted and _locks_rows(conn):
        conn.hold_rows(table, wanted)


def read_held(conn: Conn, table: str, columns: str, row_id: int) -> Any:
    """``columns`` of one row of ``table`` (a row, as ``fetchone`` gives it), read as it is
    held (``hold`` and the read in one statement); None when there is no such row."""
    if table not in TABLES:
        raise ValueError(f"no row locks on table {table!r}")
    lock = " FOR UPDATE" if _locks_rows(conn) else ""
    return conn.execute(f"SELECT {columns} FROM {table} WHERE id = $1{lock}", (row_id,)).fetchone()


def hold_found(conn: Conn, select: str | Sql, params: Params) -> bool:
    """Hold the rows ``select`` picks (a ``SELECT ... FOR UPDATE``, run only on a connection
    that locks rows) until this write transaction ends; whether there may be any: False only
    when it found none. A connection that holds the whole database runs nothing and says True
    (the caller's own read finds what there is)."""
    locks = _locks_rows(conn)  # (a bool: ``conn`` stays a Conn below)
    return not locks or bool(conn.execute(select, params).fetchall())


def hold_key(conn: Conn, name: str) -> None:
    """Keep other writers of the whole-table invariant ``name`` (one of ``KEYS``) waiting
    until this write transaction ends."""
    key = KEYS[name]
    if _locks_rows(conn):
        conn.hold_key(key)
