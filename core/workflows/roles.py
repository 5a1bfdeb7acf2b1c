"""The roles a run's steps ask for, fitted to the agents there are: a role map given with the
run (``--role coordination=qa``) renames a role; a role no agent has goes to the captain (said
in a note); with no captain it is an error naming the workflow file and the step."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from core.errors import InvalidInput
from core.models import Agent
from core.workflows.expand import PlannedTask
from core.workflows.model import Workflow


def parse_role_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["coordination=qa"]`` as ``{"coordination": "qa"}``; InvalidInput otherwise."""
    found: dict[str, str] = {}
    for pair in pairs:
        role, sep, instead = (part.strip() for part in pair.partition("="))
        if not sep or not role or not instead:
            raise InvalidInput(f"--role {pair!r}: write ROLE=ANOTHER_ROLE (e.g. coordination=qa)")
        if role in found:
            raise InvalidInput(f"--role {role} is given twice")
        found[role] = instead
    return found


def fit_roles(
    flow: Workflow,
    planned: list[PlannedTask],
    agents: Mapping[str, Agent],
    role_map: Mapping[str, str],
) -> tuple[list[PlannedTask], list[str]]:
    """The planned tasks with every role one that some agent has, and the notes to show."""
    known = list(dict.fromkeys(a.role for a in agents.values()))
    _check_map(flow, planned, known, role_map)
    captain = next((a for a in agents.values() if a.captain), None)
    fitted: list[PlannedTask] = []
    notes: dict[str, str] = {}
    for task in planned:
        role = task.spec.role
        if role is None or role in known:
            fitted.append(task)
        elif role in role_map:
            spec = dataclasses.replace(task.spec, role=role_map[role])
            fitted.append(dataclasses.replace(task, spec=spec))
        elif captain is not None:
            spec = dataclasses.replace(task.spec, role=None, agent=captain.id)
            fitted.append(dataclasses.replace(task, spec=spec))
            notes.setdefault(
                task.step,
                f'{flow.source}: step "{task.step}": no agent has the role {role!r}: the '
                f"captain {captain.id} stands in (or map it: --role {role}=ROLE)",
            )
        else:
            raise flow.fail(
                f"no agent has the role {role!r} (roles here: {', '.join(known)}) and no agent "
                f"is captain to stand in: map it with --role {role}=ROLE",
                task.step,
            )
    return fitted, list(notes.values())


def _check_map(
    flow: Workflow, planned: list[PlannedTask], known: list[str], role_map: Mapping[str, str]
) -> None:
    asked = {t.spec.role for t in planned if t.spec.role}
    for role, instead in role_map.items():
        if role not in asked:
            raise flow.fail(
                f"--role {role}={instead}: no step asks for the role {role!r} "
                f"(steps ask for {', '.join(sorted(asked)) or 'no role'})"
            )
        if instead not in known:
            raise flow.fail(
                f"--role {role}={instead}: no agent has the role {instead!r} "
                f"(roles here: {', '.join(known)})"
            )
