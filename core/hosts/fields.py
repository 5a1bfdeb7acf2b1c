"""A field of a message an agent or an old host may have written, read as one type or as
absent: total over any shape (a wrong type, a NaN, a huge number), never raising; and the
same as the annotated types the wire's models declare their fields with (``Text``,
``Whole``...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeGuard

from pydantic import PlainValidator

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


def option(value: Any) -> str | None:
    """A field that may say none (None) or some text: anything else as text."""
    return None if value is None else text(value)


def count(value: Any) -> int:
    """A field as a count: 0 where it is none."""
    return integer(value) or 0


def said(value: Any) -> bool:
    """A flag written as the host writes it (``true``); anything else is not said."""
    return value is True


def whole(value: Any) -> int | None:
    """A count or a status said as a number (a string of digits is none)."""
    return integer(value) if number(value) else None


def needed(value: Any) -> int:
    """A number a request cannot go without; ValueError (one line) where it is none."""
    found = integer(value)
    if found is None:
        raise ValueError("is no number")
    return found


# The fields of the wire's models (``core.hosts.model``), each read total: a wrong type, a
# NaN or a huge number reads as absent (its default), never as an error.
Text = Annotated[str, PlainValidator(text)]
OptionalText = Annotated[str | None, PlainValidator(optional_text)]
MaybeText = Annotated[str | None, PlainValidator(option)]
Whole = Annotated[int | None, PlainValidator(integer)]
Count = Annotated[int, PlainValidator(count)]
Real = Annotated[float | None, PlainValidator(real)]
Object = Annotated[Mapping[str, Any] | None, PlainValidator(mapping)]
Said = Annotated[bool, PlainValidator(said)]
Truthy = Annotated[bool, PlainValidator(bool)]  # any true value (older hosts' flags)
Needed = Annotated[int, PlainValidator(needed)]
