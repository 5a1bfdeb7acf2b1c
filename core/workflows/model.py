"""Workflows as data: typed variables and steps, built by a Python API that the TOML loader
also uses (one model, two front doors). Every error names the source, the step and the problem.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput
from core.models import Priority

VAR_TYPES = ("string", "int", "bool", "list")
ITEM = "item"  # the variable a fanned-out step sees for its current item
MAX_ITEMS = 1000  # items of one for_each (checked when loaded, for the default, and at run)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
VarValue = str | int | bool | list[str]


class WorkflowError(InvalidInput):
    """A workflow file or definition that cannot be used; the text names where and why."""


@dataclass(frozen=True)
class Var:
    """One typed input of a workflow."""

    name: str
    type: str = "string"
    required: bool = False
    default: VarValue | None = None
    description: str = ""


@dataclass(frozen=True)
class Step:
    """One step: a task (or one per item with ``for_each``), a gate or a failure branch."""

    id: str
    title: str
    details: str = ""
    needs: tuple[str, ...] = ()
    on_failure: tuple[str, ...] = ()
    for_each: str | None = None
    gate: bool = False
    when: str | None = None  # the file's ``if``
    role: str | None = None
    capabilities: tuple[str, ...] = ()
    agent: str | None = None
    priority: Priority = Priority.normal

    @property
    def deps(self) -> tuple[str, ...]:
        """Every step this one waits for: ``needs`` then ``on_failure``."""
        return (*self.needs, *(s for s in self.on_failure if s not in self.needs))

    def texts(self) -> dict[str, str]:
        """The fields where ``${var}`` is substituted."""
        found = {"title": self.title, "details": self.details}
        if self.when is not None:
            found["if"] = self.when
        return found


@dataclass
class Workflow:
    """A named, reusable task graph: ``Workflow("release").var("version").step(...)``."""

    name: str
    description: str = ""
    source: str = ""  # what errors name: the file name, or ``workflow "NAME"``
    vars: dict[str, Var] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.source:
            self.source = f'workflow "{self.name}"'
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise WorkflowError(
                f"{self.source}: name must be 1-64 letters, digits, - or _ starting with a letter"
            )

    def fail(self, problem: str, step: str | None = None) -> WorkflowError:
        """An error naming this workflow's source (and the step)."""
        where = f'{self.source}: step "{step}": ' if step else f"{self.source}: "
        return WorkflowError(where + problem)

    def var(
        self,
        name: str,
        type: str = "string",
        *,
        required: bool = False,
        default: VarValue | None = None,
        description: str = "",
    ) -> Workflow:
        """Declare a typed variable; return the workflow (chainable)."""
        where = f'variable "{name}"'
        if not isinstance(name, str) or not _VAR_NAME.match(name) or name == ITEM:
            raise self.fail(f"{where}: a variable name is letters, digits and _ (and not {ITEM!r})")
        if name in self.vars:
            raise self.fail(f"{where} is declared twice")
        if type not in VAR_TYPES:
            raise self.fail(f"{where}: type must be one of {', '.join(VAR_TYPES)}, not {type!r}")
        if required and default is not None:
            raise self.fail(f"{where}: a required variable has no default")
        if default is not None:
            default = _typed_default(self, where, type, default)
        self.vars[name] = Var(name, type, bool(required), default, str(description))
        return self

    def step(
        self,
        id: str,
        title: str,
        *,
        details: str = "",
        needs: Sequence[str] = (),
        on_failure: Sequence[str] = (),
        for_each: str | None = None,
        gate: bool = False,
        when: str | None = None,
        role: str | None = None,
        capabilities: Sequence[str] = (),
        agent: str | None = None,
        priority: str | int | Priority = Priority.normal,
    ) -> Workflow:
        """Add a step (``when`` is the file's ``if``); return the workflow (chainable)."""
        if not isinstance(id, str) or not _NAME.match(id):
            raise self.fail(
                f"a step id is 1-64 letters, digits, - or _ starting with a letter, not {id!r}"
            )
        if id in self.steps:
            raise self.fail("is declared twice", id)
        if not isinstance(title, str) or not title.strip():
            raise self.fail("title must be a non-empty string", id)
        try:
            level = Priority.parse(priority)
        except InvalidInput as exc:
            raise self.fail(str(exc), id) from None
        made = Step(
            id,
            title.strip(),
            details,
            _names(self, id, "needs", needs),
            _names(self, id, "on_failure", on_failure),
            for_each,
            bool(gate),
            when,
            role or None,
            _names(self, id, "capabilities", capabilities),
            agent or None,
            level,
        )
        _check_step_fields(self, made)
        self.steps[id] = made
        return self

    def check(self) -> Workflow:
        """Check what spans steps: known names, variables and types, no cycle; return self."""
        if not self.steps:
            raise self.fail("has no steps")
        for step in self.steps.values():
            for dep in step.deps:
                if dep not in self.steps:
                    kind = "needs" if dep in step.needs else "on_failure names"
                    raise self.fail(f'{kind} unknown step "{dep}"', step.id)
                if dep == step.id:
                    raise self.fail("needs itself", step.id)
            self._check_for_each(step)
            self._check_templates(step)
        cycle = find_cycle({s.id: s.deps for s in self.steps.values()})
        if cycle:
            raise self.fail(f"dependency cycle: {' -> '.join(cycle)}")
        return self

    def _check_for_each(self, step: Step) -> None:
        if step.for_each is None:
            return
        var = self.vars.get(step.for_each)
        if var is None:
            raise self.fail(f'for_each names unknown variable "{step.for_each}"', step.id)
        if var.type != "list":
            raise self.fail(f'for_each needs a list variable: "{var.name}" is {var.type}', step.id)
        if isinstance(var.default, list) and len(var.default) > MAX_ITEMS:
            raise self.fail(
                f'for_each "{var.name}" has {len(var.default)} items by default: '
                f"the limit is {MAX_ITEMS}",
                step.id,
            )

    def _check_templates(self, step: Step) -> None:
        known = set(self.vars) | ({ITEM} if step.for_each else set())
        for what, text in step.texts().items():
            template = string.Template(text)
            if not template.is_valid():
                raise self.fail(
                    f"{what} has a bad placeholder: write $$ for a dollar sign", step.id
                )
            for name in template.get_identifiers():
                if name not in known:
                    hint = " (only a for_each step has ${item})" if name == ITEM else ""
                    raise self.fail(f"{what} uses unknown variable ${{{name}}}{hint}", step.id)

    def to_json(self) -> dict[str, Any]:
        """The definition in the file's shape (``if`` for ``when``)."""
        return {
            "name": self.name,
            "description": self.description,
            "vars": {
                v.name: {
                    "type": v.type,
                    "required": v.required,
                    "default": v.default,
                    "description": v.description,
                }
                for v in self.vars.values()
            },
            "steps": [_step_json(s) for s in self.steps.values()],
        }


def _step_json(step: Step) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": step.id,
        "title": step.title,
        "details": step.details,
        "needs": list(step.needs),
        "on_failure": list(step.on_failure),
        "for_each": step.for_each,
        "gate": step.gate,
        "if": step.when,
        "role": step.role,
        "capabilities": list(step.capabilities),
        "agent": step.agent,
        "priority": step.priority.name,
    }
    return raw


def _names(flow: Workflow, step: str, what: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not all(isinstance(v, str) and v.strip() for v in values):
        raise flow.fail(f"{what} must be a list of non-empty strings", step)
    return tuple(dict.fromkeys(v.strip() for v in values))


def _check_step_fields(flow: Workflow, step: Step) -> None:
    for what in ("details", "for_each", "when", "role", "agent"):
        value = getattr(step, what)
        if value is not None and not isinstance(value, str):
            name = "if" if what == "when" else what
            raise flow.fail(f"{name} must be a string", step.id)
    if step.gate and (step.role or step.agent or step.capabilities):
        raise flow.fail(
            "a gate is approved by a person: role, agent and capabilities do not apply", step.id
        )
    if step.gate and step.on_failure:
        raise flow.fail("a gate cannot be a failure branch (on_failure)", step.id)


def _typed_default(flow: Workflow, where: str, type: str, value: Any) -> VarValue:
    ok = {
        "string": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list | tuple) and all(isinstance(v, str) for v in value),
    }
    if not ok[type]:
        raise flow.fail(
            f"{where}: default {value!r} is not a {type}"
            + (" of strings" if type == "list" else "")
        )
    return list(value) if type == "list" else value


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle as a path of names (first name repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for root in graph:
        if root in state:
            continue
        path = [root]
        stack = [iter(graph[root])]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                state[path.pop()] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state and child in graph:
                state[child] = 1
                path.append(child)
                stack.append(iter(graph[child]))
    return None
