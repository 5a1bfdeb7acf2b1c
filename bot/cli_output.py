"""Output helpers shared by the ``swarm`` subcommands (kept apart from ``bot.cli``, the entry
point, so that no subcommand module imports it back)."""

from __future__ import annotations

import json
from typing import Any


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    print(json.dumps(value, indent=2, ensure_ascii=False))
