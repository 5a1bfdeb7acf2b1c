"""File reservations: which paths an agent holds, shared or exclusive, while it works on them.

The package's face: what other packages use is named here; its modules (``_approval``: the
wide reservations held for a person's approval, ``_patterns``: the patterns' rules and the
overlap decision, ``_queries``: the rows' statements, ``_reserving``: reserve, release and the
release when a task ends, ``_service``: ``ReservationBook``, what the front ends call) are its
own.
"""

from __future__ import annotations

from core.reservations._approval import SOURCE as APPROVAL_SOURCE
from core.reservations._approval import approved
from core.reservations._queries import Reservation, released_text
from core.reservations._reserving import Conflict, files_touching, task_ended
from core.reservations._service import ReservationBook

__all__ = [
    "APPROVAL_SOURCE",
    "Conflict",
    "Reservation",
    "ReservationBook",
    "approved",
    "files_touching",
    "released_text",
    "task_ended",
]
