"""Whether a connection implements an optional protocol of the store, decided once per class.

``isinstance`` against a ``runtime_checkable`` protocol looks up each of the protocol's
members on the object every time (~8 us in Python 3.11), and store functions on the hot path
ask it per statement (``row_locks.read_held``: is this PostgreSQL's row-locking connection?).
A connection's class decides the answer (the protocols here name methods, never attributes
set on an instance), so it is worked out once per (class, protocol).
"""

from __future__ import annotations

_DECIDED: dict[tuple[type, type], bool] = {}


def implements(conn: object, protocol: type) -> bool:
    """``isinstance(conn, protocol)`` for a runtime-checkable protocol of methods, cached by
    ``conn``'s class."""
    key = (type(conn), protocol)
    found = _DECIDED.get(key)
    if found is None:
        found = _DECIDED[key] = isinstance(conn, protocol)
    return found
