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
from typing import Any, TypeVar

from core.hosts import journal_file, wire
from core.hosts.entries import Session, TurnEnd
from core.hosts.fields import Object, OptionalText, Real
from core.hosts.model import Message
from core.privacy import files


class Used(Message):
    """The file beside a journal of a session's running usage (``wire.used_path``)."""

    session: OptionalText = None
    usage: Object = None


class Spent(Message):
    """The file beside a journal of a session's running total cost (``wire.spent_path``)."""

    session: OptionalText = None
    total_cost_usd: Real = None  # (``TOTAL_COST``)


Kept = TypeVar("Kept", Used, Spent)


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
    kept = _kept(wire.used_path(journal), Used)
    if kept.session == session and kept.usage is not None:
        return dict(kept.usage)
    found: dict[str, Any] = {}
    for end in _turn_ends(journal, session):
        said = end.session_usage if end.session_usage is not None else end.usage
        found = dict(said) if said is not None else found
    return found


def keep(journal: Path, session: str, total: Mapping[str, Any]) -> None:
    """``session``'s running ``total`` as its last turn end said it, beside the journal."""
    said = Used(session=session, usage=total).model_dump()
    files.write_file(wire.used_path(journal), wire.encode(said))


def spent(journal: Path, session: str) -> float:
    """``session``'s running total cost as its last turn's end said: kept beside the
    journal (``wire.spent_path``), else read from the journal (a host from before it was
    kept); 0 when none did."""
    kept = _kept(wire.spent_path(journal), Spent)
    if kept.session == session and kept.total_cost_usd is not None:
        return kept.total_cost_usd
    found = 0.0
    for end in _turn_ends(journal, session):
        found = end.total_cost if end.total_cost is not None else found
    return found


def keep_spent(journal: Path, session: str, total: float) -> None:
    """``session``'s running total cost as its last turn end said it, beside the journal."""
    said = Spent(session=session, total_cost_usd=total).model_dump()
    files.write_file(wire.spent_path(journal), wire.encode(said))


def _kept(path: Path, kind: type[Kept]) -> Kept:
    """The file at ``path`` as ``kind`` (nothing said where it is missing or no object)."""
    try:
        return kind.model_validate(wire.decode(path.read_bytes()))
    except (OSError, ValueError):  # (pydantic's ValidationError is a ValueError)
        return kind()


def _turn_ends(journal: Path, session: str) -> Iterator[TurnEnd]:
    """The journal's turn ends of ``session`` (each after a ``session`` entry naming it),
    each entry read once (``core.hosts.entries.read``)."""
    current = None
    for entry in journal_file.entries(journal):
        body = entry.body
        if isinstance(body, Session):
            current = body.session
        elif isinstance(body, TurnEnd) and current == session:
            yield body


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
