"""A session's running usage, for an agent whose turn end says that and not the turn's
(``AgentCli.cumulative_usage``: Mistral Vibe's ACP). A turn's own usage is what it added to
the total its session's last turn end said; that total is kept beside the journal
(``core.hosts.wire.used_path``), so an emptied journal or a restarted host does not book the
session again. A new session starts at zero; a loaded one goes on from what was kept."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.hosts import journal_file, wire
from core.privacy import files


def turn_usage(total: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """What a turn added to its session's running ``total`` since ``before`` (the total at
    the session's last turn end; empty: none). A count below the one before says the agent
    counts its session again from zero (its process started again without it): the total
    is then the turn's own."""
    counts = {name: value for name, value in total.items() if _count(value)}
    if any(_count(before.get(name)) and value < before[name] for name, value in counts.items()):
        return dict(total)
    added = {name: value - before.get(name, 0) if _count(before.get(name)) else value
             for name, value in counts.items()}  # fmt: skip
    return {**total, **added}


def before(journal: Path, session: str) -> dict[str, Any]:
    """``session``'s running total at its last turn end: kept beside the journal, else read
    from the journal (a host from before it was kept: its ``usage`` was the total); empty
    when no turn of it said one."""
    try:
        kept = wire.decode(wire.used_path(journal).read_bytes())
    except (OSError, ValueError):
        kept = {}
    if kept.get("session") == session and isinstance(kept.get("usage"), dict):
        return dict(kept["usage"])
    found: dict[str, Any] = {}
    current = None
    for entry in journal_file.entries(journal):
        if entry.get("type") == wire.SESSION:
            current = entry.get("session")
        elif entry.get("type") == wire.TURN_END and current == session:
            said = entry.get(wire.SESSION_USAGE, entry.get("usage"))
            found = dict(said) if isinstance(said, dict) else found
    return found


def keep(journal: Path, session: str, total: Mapping[str, Any]) -> None:
    """``session``'s running ``total`` as its last turn end said it, beside the journal."""
    files.write_file(wire.used_path(journal), wire.encode({"session": session, "usage": total}))


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
