"""What a ``swarm doctor`` check finds; a module of its own so that the PostgreSQL checks
(:mod:`bot.cli.doctor_pg`), which :mod:`bot.cli.doctor` calls, need not import doctor back."""

from __future__ import annotations

from dataclasses import dataclass

OK, PROBLEM, SKIPPED = "ok", "PROBLEM", "skipped"


@dataclass(frozen=True)
class Finding:
    """One check's outcome."""

    check: str
    status: str  # ok, PROBLEM, skipped
    detail: str
