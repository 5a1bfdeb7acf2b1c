"""A stored schedule, as the ``schedules`` table's queries return it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.models import Target, TargetKind
from core.schedules.timing import span
from core.store.conn import Row


def schedule_ref(schedule_id: int) -> str:
    """``S-3``."""
    return f"S-{schedule_id}"


@dataclass(frozen=True)
class Schedule:
    """One stored schedule (``target``: a prompt's, from ``target_kind`` and ``target_name``)."""

    id: int
    kind: str
    target: Target | None
    text: str
    period: str | None
    cron: str | None
    every_s: float | None
    next_run_at: float | None
    last_run_at: float | None
    runs: int
    enabled: bool
    builtin: str | None
    created_by: str
    created_at: float
    removed_at: float | None = None  # set: removed for good (a built-in stays so)

    @property
    def ref(self) -> str:
        """Human-friendly id, e.g. ``S-3``."""
        return schedule_ref(self.id)

    @property
    def when(self) -> str:
        """``cron 0 18 * * *`` or ``every 3600 s``."""
        return f"cron {self.cron}" if self.cron else f"every {span(self.every_s or 0)}"

    @property
    def what(self) -> str:
        """``prompt to role:qa`` or ``summary of 1d``."""
        if self.kind == "summary":
            return f"summary of {self.period}"
        return f"prompt to {self.target}"

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and the bot."""
        return {
            "id": self.ref,
            "kind": self.kind,
            "target": None if self.target is None else str(self.target),
            "text": self.text,
            "period": self.period,
            "cron": self.cron,
            "every_s": self.every_s,
            "next_run_at": self.next_run_at,
            "last_run_at": self.last_run_at,
            "runs": self.runs,
            "enabled": self.enabled,
            "builtin": self.builtin,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def schedule_of(row: Row) -> Schedule:
    """The schedule a ``schedules`` row holds."""
    return Schedule(
        id=row["id"],
        kind=row["kind"],
        target=Target(TargetKind(row["target_kind"]), row["target_name"])
        if row["target_kind"]
        else None,
        text=row["text"],
        period=row["period"],
        cron=row["cron"],
        every_s=row["every_s"],
        next_run_at=row["next_run_at"],
        last_run_at=row["last_run_at"],
        runs=row["runs"],
        enabled=bool(row["enabled"]),
        builtin=row["builtin"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        removed_at=row["removed_at"],
    )
