"""A session's running usage and cost, kept beside its host's journal so an emptied journal or
a restarted host does not book the session again.

Usage, for an agent whose turn end says its session's and not the turn's
(``AgentCli.cumulative_usage``: Mistral Vibe's ACP): a turn's own usage is what it added to
the total its session's last turn end said (``core.hosts.wire.used_path``). A new session
starts at zero; a loaded one goes on from what was kept. Cost, for an agent whose turn end's
meta says its session's running total (Claude Code's ``total_cost_usd``): kept at each turn
end (``core.hosts.wire.spent_path``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.hosts import entries, journal_file, wire
from core.hosts.entries import Session, TurnEnd
from core.hosts.fields import real
from core.hosts.turns import TOTAL_COST
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
    for end in _turn_ends(journal, session):
        said = end.session_usage if end.session_usage is not None else end.usage
        found = dict(said) if said is not None else found
    return found


def keep(journal: Path, session: str, total: Mapping[str, Any]) -> None:
    """``session``'s running ``total`` as its last turn end said it, beside the journal."""
    files.write_file(wire.used_path(journal), wire.encode({"session": session, "usage": total}))


def spent(journal: Path, session: str) -> float:
    """``session``'s running total cost as its last turn's end said: kept beside the
    journal (``wire.spent_path``), else read from the journal (a host from before it was
    kept); 0 when none did."""
    try:
        kept = wire.decode(wire.spent_path(journal).read_bytes())
    except (OSError, ValueError):
        kept = {}
    total = real(kept.get(TOTAL_COST))
    if kept.get("session") == session and total is not None:
        return total
    found = 0.0
    for end in _turn_ends(journal, session):
        found = end.total_cost if end.total_cost is not None else found
    return found


def keep_spent(journal: Path, session: str, total: float) -> None:
    """``session``'s running total cost as its last turn end said it, beside the journal."""
    files.write_file(wire.spent_path(journal), wire.encode({"session": session, TOTAL_COST: total}))


def _turn_ends(journal: Path, session: str) -> Iterator[TurnEnd]:
    """The journal's turn ends of ``session`` (each after a ``session`` entry naming it),
    each entry read once (``core.hosts.entries.read``)."""
    current = None
    for raw in journal_file.entries(journal):
        body = entries.read(raw).body
        if isinstance(body, Session):
            current = body.session
        elif isinstance(body, TurnEnd) and current == session:
            yield body


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
