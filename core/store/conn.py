"""The one connection interface the store's functions run on, and its SQLite implementation.

Every store function is a plain function of a ``Conn``. Its SQL is written once, in the
subset that SQLite (>= 3.35) and PostgreSQL both run unchanged: named parameters
(``:task_id``), ``INSERT ... ON CONFLICT DO NOTHING``, ``RETURNING id``, ``lower(x) LIKE
lower(:pattern)`` where matching is case-blind, ``id`` (never ``rowid``) for order. Each
statement is a module constant made by ``sql()`` and run with a mapping of its names;
``sql()`` numbers the names once, when its module is imported (``$1``..``$n`` for
PostgreSQL's server-side binding, ``?1``..``?n`` for SQLite's), so nothing rewrites a
statement while it runs. A list of any length is one parameter (``listed``, ``in_list``,
``sql_pair``), and so are rows of several fields (``json_rows``). A plain string with ``$n``
placeholders bound from a sequence is still run as written: the store's own plumbing (a
``PRAGMA``'s value, a ``LISTEN``'s channel). Where the dialects truly differ a function
either calls a named operation of the connection (``data_version``, ``give_back_space``,
``add_event``/``flush_events``), one of the store's row locks (``core.store.row_locks``), or
picks one statement or one operation of a ``Pair``; it never reads ``conn.dialect`` itself.

Rows are read by column name (``row["id"]``, the ``Row`` protocol): ``sqlite3.Row`` here,
psycopg's ``dict_row`` on PostgreSQL (``core.store.postgres.store.PgConn``), never by index; code
that unpacks a row does it through ``values(row)`` (unpacking a dict would give its column
names). Errors are the store's own (``core.errors``; ``sqlite_error`` maps SQLite's).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Generic, Literal, Protocol, TypeVar

from core.errors import (
    Busy,
    Constraint,
    IntegrityError,
    StoreError,
    Unavailable,
)

T = TypeVar("T")
MIN_SQLITE = (3, 35)  # RETURNING (3.35), ON CONFLICT DO NOTHING (3.24)
Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any] | Mapping[str, Any]
# what a store can announce to other processes (``Store.listen``): a commit that changed rows
# ("changes"), a delivery queued for an agent ("deliveries", the agent's id as the payload)
Channel = Literal["changes", "deliveries"]

# The columns of one event row, in the order ``Conn.add_event`` takes them.
EVENT_COLUMNS = ("ts", "kind", "text", "task_id", "agent_id", "actor", "data")
EVENT_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(EVENT_COLUMNS) + 1))})"
)


# ``:name`` outside quotes, not a PostgreSQL cast (``x::text``) nor part of a word (``a:b``)
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_NUMBERED = re.compile(r"\$\d")


@dataclass(frozen=True, slots=True)
class Sql:
    """One statement with named parameters, as both databases run it: ``text`` with ``$1``..
    ``$n`` (PostgreSQL), ``sqlite`` with ``?1``..``?n``, ``names`` the parameter each number
    stands for (a name used twice is one number)."""

    text: str
    sqlite: str
    names: tuple[str, ...]

    def bind(self, params: Params) -> tuple[Any, ...]:
        """The values of ``params`` in the statement's order; a missing or unknown name is a
        ``TypeError`` naming it (a typo must not bind NULL or be ignored)."""
        try:
            values = tuple([params[name] for name in self.names])  # type: ignore[call-overload]
        except KeyError as exc:
            raise TypeError(f"the statement has no value for :{exc.args[0]}") from None
        except TypeError:
            raise TypeError("a statement with named parameters takes a mapping") from None
        if len(params) != len(self.names):
            extra = sorted(set(params) - set(self.names))
            raise TypeError(f"the statement has no parameter {', '.join(extra)}")
        return values


def sql(text: str) -> Sql:
    """``text`` with ``:name`` parameters made one ``Sql`` (call it where the statement is
    defined: a module constant, so it is compiled once); quoted text is left as written, and
    numbered placeholders (``$1``) are refused: one statement names all its parameters or
    none."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"\0{names.index(match.group(1)) + 1}\0"

    pieces = text.split("'")  # even pieces are outside quotes ('' inside a literal: two splits)
    for i in range(0, len(pieces), 2):
        if _NUMBERED.search(pieces[i]):
            raise ValueError(f"numbered placeholder in a statement with named ones: {text!r}")
        pieces[i] = _PARAMETER.sub(number, pieces[i])
    marked = "'".join(pieces)
    numbered = re.compile("\0(\\d+)\0")
    return Sql(numbered.sub(r"$\1", marked), numbered.sub(r"?\1", marked), tuple(names))


class Row(Protocol):
    """One row as store functions read it: by column name (``sqlite3.Row`` on SQLite,
    psycopg's ``dict_row`` on PostgreSQL), never by index or by iterating it (the two
    differ there: ``values(row)`` unpacks one)."""

    def __getitem__(self, key: str, /) -> Any:
        """The value of column ``key``."""

    def keys(self) -> Iterable[str]:
        """The column names, in the SELECT's order."""


class Cursor(Protocol):
    """The result of one statement: its rows (read by name) and how many rows it changed."""

    @property
    def rowcount(self) -> int:
        """Rows changed (INSERT/UPDATE/DELETE); -1 or the rows read otherwise."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """The rows not yet read."""

    def __iter__(self) -> Iterator[Any]:
        """The rows not yet read, one by one."""


class Conn(Protocol):
    """One database connection as the store's functions use it (see the module's text)."""

    dialect: Dialect

    @property
    def total_changes(self) -> int:
        """Rows changed through this connection so far (a write compares before/after)."""

    def execute(self, sql: str | Sql, params: Params = ()) -> Any:
        """Run one portable statement: a ``Sql`` bound from a mapping of its names, or a
        string with ``$n`` placeholders bound from a sequence."""

    def executemany(self, sql: str | Sql, seq: Iterable[Params]) -> Any:
        """Run one statement once per mapping (``Sql``) or sequence (a string)."""

    def add_event(self, row: Sequence[Any]) -> None:
        """Append one event (values in ``EVENT_COLUMNS`` order) to the outbox, in the
        transaction of the change; it may be written with the commit (PostgreSQL: one
        multi-row INSERT), so a function that reads ``events`` in a write calls
        ``flush_events`` first."""

    def flush_events(self) -> None:
        """Write the events added so far and not yet written (nothing on SQLite)."""

    def data_version(self) -> int:
        """A number that changes when another connection commits a change."""

    def give_back_space(self, idle: bool) -> str:
        """Return the database's free space to the system where it has to be done by hand
        (SQLite's incremental vacuum); what was done, or ''."""


@dataclass(frozen=True)
class Pair(Generic[T]):
    """One statement, fragment or operation written for each dialect, where they truly
    differ: the one place outside the store's connections where the dialect is read (domain
    code picks with ``on``, never by asking ``conn.dialect``: ``tests/project``)."""

    sqlite: T
    postgres: T

    def on(self, conn: Conn) -> T:
        """The one for ``conn``'s database."""
        return self.sqlite if conn.dialect == "sqlite" else self.postgres


def in_list(name: str, sql_type: str = "TEXT", negated: bool = False) -> Pair[str]:
    """``IN`` the list parameter ``:name`` (its value from ``listed``), to follow a column:
    SQLite reads the JSON array with ``json_each``, PostgreSQL makes it one array of
    ``sql_type`` (``= ANY``: an index scan whatever its length); ``negated``: ``NOT IN``."""
    items = f"SELECT CAST(value AS {sql_type}) FROM json_array_elements_text(CAST(:{name} AS json))"
    sqlite = f"IN (SELECT value FROM json_each(:{name}))"
    postgres = f"= ANY(ARRAY({items}))"
    if negated:
        return Pair(f"NOT {sqlite}", f"<> ALL(ARRAY({items}))")
    return Pair(sqlite, postgres)


def listed(items: Iterable[Any]) -> str:
    """The value of a list parameter (``in_list``): the items as one JSON array."""
    return json.dumps(list(items))


def json_rows(name: str, columns: Mapping[str, str]) -> Pair[str]:
    """A ``SELECT`` of the rows in the parameter ``:name`` (its value from ``listed``: JSON
    objects), one column per key of ``columns`` (name -> its SQL type), in the list's order:
    SQLite reads them with ``json_each``, PostgreSQL with ``jsonb_to_recordset``. A missing
    key or a JSON null is NULL."""
    names = ", ".join(columns)
    typed = ", ".join(f"{c} {t}" for c, t in columns.items())
    picked = ", ".join(f"json_extract(value, '$.{c}') AS {c}" for c in columns)
    return Pair(
        f"SELECT {picked} FROM json_each(:{name}) ORDER BY key",
        f"SELECT {names} FROM ROWS FROM (jsonb_to_recordset(CAST(:{name} AS jsonb)) "
        f"AS ({typed})) WITH ORDINALITY AS r({names}, n) ORDER BY n",
    )


def sql_pair(text: str, **fragments: Pair[str]) -> Pair[Sql]:
    """``text`` made one ``Sql`` per dialect, each ``{field}`` filled with that dialect's
    fragment (``in_list``): a module constant, like ``sql``."""
    return Pair(
        sql(text.format(**{k: f.sqlite for k, f in fragments.items()})),
        sql(text.format(**{k: f.postgres for k, f in fragments.items()})),
    )


_NAMES = tuple(str(i) for i in range(1, 1001))


_execute = sqlite3.Connection.execute
_executemany = sqlite3.Connection.executemany
# ``add_event``'s statement in SQLite's own numbered placeholders (``?1``..``?7``, bound from
# the row as it is: no name per value), built from the columns like ``EVENT_INSERT``
_SQLITE_EVENT_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join(f'?{i}' for i in range(1, len(EVENT_COLUMNS) + 1))})"
)


class SqliteConn(sqlite3.Connection):
    """``Conn`` over ``sqlite3``: the connection class ``sqlite3.connect`` makes
    (``factory=SqliteConn``); ``$n`` placeholders bound by name, rows as ``sqlite3.Row``."""

    dialect: Dialect = "sqlite"

    def execute(  # type: ignore[override]
        self, sql: str | Sql, params: Params = (), /
    ) -> sqlite3.Cursor:
        """Run one statement: a ``Sql`` in SQLite's numbered placeholders, a string's ``$n``
        bound by name."""
        try:
            if isinstance(sql, Sql):
                return _execute(self, sql.sqlite, sql.bind(params))
            if params and params.__class__ is not dict:  # a sequence, the common case: inline
                return _execute(self, sql, dict(zip(_NAMES, params)))  # noqa: B905
            return _execute(self, sql, params)
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc

    def executemany(  # type: ignore[override]
        self, sql: str | Sql, seq: Iterable[Params], /
    ) -> sqlite3.Cursor:
        """Run one statement once per mapping (``Sql``) or sequence (a string)."""
        try:
            if isinstance(sql, Sql):
                return _executemany(self, sql.sqlite, map(sql.bind, seq))
            return _executemany(self, sql, map(dict, map(zip, repeat(_NAMES), seq)))
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc

    def add_event(self, row: Sequence[Any]) -> None:
        """Insert the event now (SQLite has one writer: nothing to gain by holding it); the
        most frequent statement of a lifecycle, so in SQLite's own placeholders."""
        try:
            _execute(self, _SQLITE_EVENT_INSERT, row)
        except sqlite3.Error as exc:
            raise sqlite_error(exc) from exc

    def flush_events(self) -> None:
        """Nothing held."""

    def data_version(self) -> int:
        """``PRAGMA data_version``."""
        return int(super().execute("PRAGMA data_version").fetchone()[0])

    def give_back_space(self, idle: bool) -> str:
        """``PRAGMA incremental_vacuum``; a file without auto-vacuum is converted by one
        VACUUM, only when ``idle`` (it rewrites the whole file)."""
        mode = super().execute("PRAGMA auto_vacuum").fetchone()[0]
        if mode == 2:  # incremental
            free = super().execute("PRAGMA freelist_count").fetchone()[0]
            super().execute("PRAGMA incremental_vacuum").fetchall()
            return f"{free} free pages returned" if free else ""
        if not idle:
            return "VACUUM postponed: the swarm is busy"
        super().execute("PRAGMA auto_vacuum = INCREMENTAL")
        super().execute("VACUUM")
        return "database converted to incremental auto-vacuum (VACUUM)"


def values(row: Any) -> tuple[Any, ...]:
    """A row's values in its SELECT's order, for unpacking (``sqlite3.Row`` or a dict)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


# SQLite's primary result codes (<sqlite3.h>) of a database that refuses for now
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
# SQLITE_NOMEM, SQLITE_READONLY, SQLITE_INTERRUPT, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN,
# SQLITE_PROTOCOL
_UNAVAILABLE_CODES = frozenset({7, 8, 9, 10, 13, 14, 15})
_CONSTRAINTS: dict[str, Constraint] = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_NOTNULL": "not_null",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
    "SQLITE_CONSTRAINT_CHECK": "check",
}


def sqlite_error(exc: sqlite3.Error) -> StoreError:
    """The store's error for a ``sqlite3`` error (raise it ``from exc``)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return _integrity(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    text = str(exc) or type(exc).__name__
    if primary in _BUSY_CODES:
        return Busy(text)
    if primary in _UNAVAILABLE_CODES:
        return Unavailable(text)
    return StoreError(text)


def _integrity(exc: sqlite3.IntegrityError) -> IntegrityError:
    """``UNIQUE constraint failed: t.a, t.b`` as ``IntegrityError("unique", "t", ("a", "b"))``."""
    constraint = _CONSTRAINTS.get(getattr(exc, "sqlite_errorname", ""), "other")
    if constraint not in ("unique", "not_null"):
        return IntegrityError(constraint)
    _, _, where = str(exc).partition(": ")
    names = [part.strip().partition(".") for part in where.split(",")]
    tables = {table for table, dot, _ in names if dot}
    if len(tables) != 1 or not all(dot for _, dot, _ in names):
        return IntegrityError(constraint)  # an index on an expression: "index 'name'"
    return IntegrityError(constraint, tables.pop(), tuple(column for _, _, column in names))
