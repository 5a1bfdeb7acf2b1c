"""The ACP SDK imported for a host, its schema's ~270 pydantic models built without their
fields' docstrings.

The SDK's models ask pydantic for their attribute docstrings (``use_attribute_docstrings``):
before Python 3.13, pydantic finds each class's source by walking the frames of the import
and tokenizing the class's lines. Without that, the ACP driver's import takes 0.73 of its
CPU time (``bench/host_start.py``: 0.81 s against 1.10 s at p50). The docstrings only become
the fields' descriptions, which a JSON schema would show; a host validates and writes the
wire, never a schema. A pydantic without the function this skips imports the SDK as it is
(slower)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from pydantic._internal import _fields

# what acp_driver imports from the SDK
MODULES = ("acp", "acp.core", "acp.interfaces", "acp.meta", "acp.schema", "acp.transports")


def load() -> None:
    """Import the SDK's modules (already imported ones are left as they are)."""
    with _no_field_docstrings():
        for name in MODULES:
            importlib.import_module(name)


def skips_docstrings() -> bool:
    """True when this pydantic has the docstring reader ``load`` skips."""
    return callable(getattr(_fields, "extract_docstrings_from_cls", None))


@contextlib.contextmanager
def _no_field_docstrings() -> Iterator[None]:
    """While inside, pydantic reads no model's attribute docstrings (put back after)."""
    if not skips_docstrings():
        yield
        return
    reader = _fields.extract_docstrings_from_cls
    _fields.extract_docstrings_from_cls = _none
    try:
        yield
    finally:
        _fields.extract_docstrings_from_cls = reader


def _none(cls: type[Any], use_inspect: bool = False) -> dict[str, str]:
    return {}
