"""The state database as a whole, for the commands that look after it rather than its rows.
The front ends call these; the work is the store's (``core.store``).

The package's face: what other packages use is named here; its modules (``_copy``: ``swarm
db copy``, a SQLite home's database into PostgreSQL, checked before anything is read;
``_checks``: ``swarm doctor``'s, the SQLite file writable, the PostgreSQL database reachable
and its schema not newer than this swarm) are its own.

Imports only ``core.store`` and the foundations.
"""

from __future__ import annotations

from core.database._checks import postgres_schema, sqlite_problem
from core.database._copy import plan as plan_copy
from core.database._copy import run as run_copy

__all__ = ["plan_copy", "postgres_schema", "run_copy", "sqlite_problem"]
