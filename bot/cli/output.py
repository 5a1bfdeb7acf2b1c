"""Output helpers shared by the ``swarm`` subcommands (kept apart from ``bot.cli.main``, the entry
point, so that no subcommand module imports it back)."""

from __future__ import annotations

import json
from typing import Any

from core.formats.jsonshape import shaped


def emit_json(value: Any) -> None:
    """Print ``value`` in the one ``--json`` shape (see :mod:`core.formats.jsonshape`): a list as a
    JSON array, anything else as an object, times as ISO-8601 UTC."""
    print(json.dumps(shaped(value), indent=2, ensure_ascii=False))


def json_line(value: Any) -> str:
    """``value`` in the same shape on one line (``events --follow --json``)."""
    return json.dumps(shaped(value), ensure_ascii=False)
