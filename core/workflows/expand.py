"""From a workflow and its variables to the task specs of one run (nothing is written here).

Variables are typed and checked first; ``${var}`` is substituted with ``string.Template``
semantics; ``if`` is decided now; ``for_each`` makes one task per item.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.models import TaskSpec
from core.workflows.model import ITEM, MAX_ITEMS, Step, VarValue, Workflow

FALSE_WORDS = {"", "false", "0", "no", "off"}
TRUE_WORDS = {"true", "1", "yes", "on"}
EMPTY: dict[str, Any] = {"string": "", "int": 0, "bool": False}  # an optional var unset


@dataclass(frozen=True)
class PlannedTask:
    """One task a run will create: the step it comes from, its item, its spec."""

    step: str
    item: str | None
    spec: TaskSpec

    @property
    def kind(self) -> str:
        """``work``, ``gate``, ``on_failure`` or ``skip``."""
        return self.spec.kind


def resolve_vars(flow: Workflow, given: Mapping[str, Any]) -> dict[str, VarValue]:
    """Typed values of every variable: given (text or typed), else defaults; WorkflowError
    for an unknown name, a missing required one or a value of the wrong type."""
    unknown = sorted(set(given) - set(flow.vars))
    if unknown:
        known = ", ".join(flow.vars) or "none"
        raise flow.fail(f'unknown variable "{unknown[0]}" (variables are {known})')
    values: dict[str, VarValue] = {}
    for var in flow.vars.values():
        if var.name in given:
            values[var.name] = _typed(flow, var.name, var.type, given[var.name])
        elif var.default is not None:
            values[var.name] = var.default
        elif var.required:
            raise flow.fail(f'variable "{var.name}" is required (--var {var.name}=...)')
        else:
            values[var.name] = [] if var.type == "list" else EMPTY[var.type]
    return values


def _typed(flow: Workflow, name: str, kind: str, raw: Any) -> VarValue:
    where = f'variable "{name}"'
    if not isinstance(raw, str):
        if kind == "list" and isinstance(raw, list | tuple):
            return [str(v) for v in raw]
        if kind == "bool" and isinstance(raw, bool):
            return raw
        if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raw = str(raw)
    text = raw.strip()
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise flow.fail(f"{where} must be a whole number, got {raw!r}") from None
    if kind == "bool":
        if text.lower() not in TRUE_WORDS | FALSE_WORDS - {""}:
            raise flow.fail(f"{where} must be true or false, got {raw!r}")
        return text.lower() in TRUE_WORDS
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return str(raw)


def as_text(value: VarValue) -> str:
    """A variable's value as it reads in a title: lists joined by ", ", bools true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def expand(flow: Workflow, values: Mapping[str, VarValue]) -> list[PlannedTask]:
    """The tasks of a run, dependencies first, each naming the refs it waits for."""
    texts = {name: as_text(v) for name, v in values.items()}
    refs: dict[str, list[str]] = {}
    planned: list[PlannedTask] = []
    for step in _in_order(flow):
        items = _items(flow, step, values)
        refs[step.id] = []
        skip = step.when is not None and not _decide(flow, step, texts)
        for index, item in enumerate(items, 1):
            ref = step.id if step.for_each is None else f"{step.id}#{index}"
            mapping = texts if item is None else {**texts, ITEM: item}
            spec = _spec(flow, step, ref, mapping, refs, skip)
            planned.append(PlannedTask(step.id, item, spec))
            refs[step.id].append(ref)
    return planned


def _in_order(flow: Workflow) -> list[Step]:
    placed: dict[str, Step] = {}
    while len(placed) < len(flow.steps):  # check() refused cycles: this always progresses
        for step in flow.steps.values():
            if step.id not in placed and all(d in placed for d in step.deps):
                placed[step.id] = step
    return list(placed.values())


def _items(flow: Workflow, step: Step, values: Mapping[str, VarValue]) -> list[str | None]:
    if step.for_each is None:
        return [None]
    items = values[step.for_each]
    assert isinstance(items, list)
    if len(items) > MAX_ITEMS:
        raise flow.fail(
            f'for_each "{step.for_each}" has {len(items)} items: the limit is {MAX_ITEMS}', step.id
        )
    return list(items)


def _decide(flow: Workflow, step: Step, texts: Mapping[str, str]) -> bool:
    decided = _substitute(flow, step, "if", step.when or "", texts).strip().lower()
    if decided.startswith("not "):
        return decided[4:].strip() in FALSE_WORDS
    return decided not in FALSE_WORDS


def _substitute(
    flow: Workflow, step: Step, what: str, text: str, mapping: Mapping[str, str]
) -> str:
    try:
        return string.Template(text).substitute(mapping)
    except KeyError as exc:
        raise flow.fail(f"{what} uses unknown variable ${{{exc.args[0]}}}", step.id) from None
    except ValueError:
        raise flow.fail(
            f"{what} has a bad placeholder: write $$ for a dollar sign", step.id
        ) from None


def _spec(
    flow: Workflow,
    step: Step,
    ref: str,
    mapping: Mapping[str, str],
    refs: Mapping[str, list[str]],
    skip: bool,
) -> TaskSpec:
    needs = tuple(r for dep in step.needs for r in refs[dep])
    triggers = tuple(r for dep in step.on_failure for r in refs[dep])
    kind = "skip" if skip else "gate" if step.gate else "on_failure" if step.on_failure else "work"
    return TaskSpec(
        _substitute(flow, step, "title", step.title, mapping),
        _substitute(flow, step, "details", step.details, mapping),
        step.priority,
        step.role,
        step.capabilities,
        step.agent,
        after=needs,
        ref=ref,
        kind=kind,
        on_failure=triggers,
    )
