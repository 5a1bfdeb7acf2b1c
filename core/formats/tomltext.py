"""TOML text parsed with :mod:`tomllib`, every way it can fail as one error.

``tomllib`` parses nested arrays and inline tables recursively: a small file such as
``x = [[[[...]]]]`` (10 kB) raises ``RecursionError``, which is not a ``TOMLDecodeError``.
Swarm's files (agents, user config, workflows) are a few levels deep, so anything nested
deeper than :data:`MAX_DEPTH` is refused too: what parsed is then safe to walk recursively
(``--json``, checks) whatever the stack depth of the caller.
"""

from __future__ import annotations

import tomllib
from typing import Any

MAX_DEPTH = 32


class TomlError(ValueError):
    """The text is not TOML swarm accepts; the message says why (one line)."""


def loads(text: str) -> dict[str, Any]:
    """The document; TomlError for invalid TOML or nesting deeper than ``MAX_DEPTH``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(str(exc)) from None
    except RecursionError:
        raise TomlError(f"nested more than {MAX_DEPTH} levels deep") from None
    if depth(document) > MAX_DEPTH:
        raise TomlError(f"nested more than {MAX_DEPTH} levels deep")
    return document


def depth(value: object) -> int:
    """How many arrays and tables are nested in ``value`` (a scalar: 0); not recursive."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest
