"""What every message of the wire is: a frozen pydantic model, its fields read total
(``core.hosts.fields``), written by the same model (``model_dump``) with the fields that say
nothing left out (``Field(exclude_if=...)``). A journal line's flat object is read with
``LINE`` as the validation context: a model whose fields on the line are not its own (an
update's words, a turn error's missing data) reads them apart only then, never when it is
made in code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo

LINE = {"line": True}  # the validation context of a journal line (or a socket line)


class Message(BaseModel):
    """One message of the host wire (a journal entry's body, a request, a reply). Its
    validators are built at its first use (``defer_build``; the adapters of ``entries`` and
    ``requests`` too): a ``swarm`` command that reads no wire does not build them at start."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", ser_json_inf_nan="constants", defer_build=True
    )


def from_line(info: ValidationInfo) -> bool:
    """Whether a model is read from a line (``LINE``), not made in code."""
    return isinstance(info.context, dict) and info.context.get("line") is True


def empty(value: Any) -> bool:
    """A field left out when it says nothing (no text, false, no items)."""
    return not value


def absent(value: Any) -> bool:
    """A field left out when it is None."""
    return value is None
