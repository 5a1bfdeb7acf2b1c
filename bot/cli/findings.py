"""What a ``swarm doctor`` check finds; a module of its own so that the PostgreSQL checks
(:mod:`bot.cli.doctor_pg`), which :mod:`bot.cli.doctor` calls, need not import doctor back."""

from __future__ import annotations

from dataclasses import dataclass

OK, PROBLEM, SKIPPED, WARNING = "ok", "PROBLEM", "skipped", "warning"


@dataclass(frozen=True)
class Finding:
    """One check's outcome."""

    check: str
    status: str  # ok, PROBLEM, warning (exit 0), skipped
    detail: str
