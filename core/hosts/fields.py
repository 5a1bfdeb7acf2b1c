"""A field of a message an agent or an old host may have written, read as one type or as
absent: total over any shape (a wrong type, a NaN, a huge number), never raising."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

INT_LIMIT = 2**63  # a whole number beyond this is none (a seq, a pid, a count)


def text(value: Any) -> str:
    """A field as text: a string as it is, a number in digits, anything else empty."""
    if isinstance(value, str):
        return value
    if number(value):
        try:
            return str(value)
        except ValueError:  # an integer of more digits than Python writes
            return ""
    return ""


def optional_text(value: Any) -> str | None:
    """A field as text, None where it is absent or empty."""
    return text(value) or None


def integer(value: Any) -> int | None:
    """A field as a whole number (a float or a string of digits too) within 64 bits; None:
    none (a larger one is no count, id or code any host writes)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        found = int(value)
    except (ValueError, OverflowError):
        return None
    return found if -INT_LIMIT <= found < INT_LIMIT else None


def real(value: Any) -> float | None:
    """A field as a float (not NaN, not a bool, not beyond a float's range); None: none."""
    if not number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def number(value: Any) -> TypeGuard[int | float]:
    """Whether ``value`` is a number (not a bool, not NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def mapping(value: Any) -> Mapping[str, Any] | None:
    """A field as an object; None where it is none."""
    return value if isinstance(value, Mapping) else None
