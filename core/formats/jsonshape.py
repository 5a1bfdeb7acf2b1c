"""The one JSON shape of every ``--json`` output and export: objects and arrays of plain
values, times as ISO-8601 UTC strings (``2026-11-22T11:30:00Z``).

A field holds a time when its name is ``ts``, ``since``, ``until`` or ends in ``_at``
(``created_at``): the store keeps epoch seconds there, the output shows them as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.formats.timetext import utc_text

TIME_FIELDS = frozenset({"ts", "since", "until"})


def iso_utc(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC: ``2026-11-22T10:15:00Z`` (any value: see
    ``core.formats.timetext``)."""
    return utc_text(ts, "%Y-%m-%dT%H:%M:%SZ")


def is_time_field(name: str) -> bool:
    """True for the names that hold a time (``ts``, ``since``, ``until``, ``*_at``)."""
    return name in TIME_FIELDS or name.endswith("_at")


def shaped(value: Any) -> Any:
    """``value`` with every time field (at any depth) as ISO-8601 UTC text; tuples become
    lists. Numbers elsewhere stay numbers."""
    if isinstance(value, Mapping):
        return {key: _field(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shaped(item) for item in value]
    return value


def _field(name: str, value: Any) -> Any:
    if is_time_field(name) and isinstance(value, int | float) and not isinstance(value, bool):
        return iso_utc(value)
    return shaped(value)
