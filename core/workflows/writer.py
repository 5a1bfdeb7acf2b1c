"""Workflows written as TOML files: a plan saved for reuse (``swarm plan --save-workflow``)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from core.privacy.files import make_dirs
from core.workflows.loader import from_document
from core.workflows.model import Step, Workflow, WorkflowError

if TYPE_CHECKING:
    from core.planning import Plan

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def from_plan(plan: Plan, name: str) -> Workflow:
    """A workflow with one step per task of the plan (texts kept literal: ``$`` is escaped)."""
    ids = {item.ref: _step_id(item.ref) for item in plan.items}
    flow = Workflow(name, _literal(plan.summary) if plan.summary else "", f"{name}.toml")
    for item in plan.items:
        flow.step(
            ids[item.ref],
            _literal(item.title),
            details=_literal(item.details),
            needs=[ids[r] for r in item.after],
            role=item.role,
            priority=item.priority,
        )
    return flow.check()


def to_toml(flow: Workflow) -> str:
    """The workflow in the file format (it loads back into an equal workflow)."""
    lines = [f"name = {_quote(flow.name)}"]
    if flow.description:
        lines.append(f"description = {_quote(flow.description)}")
    for var in flow.vars.values():
        lines += ["", f"[vars.{var.name}]", f"type = {_quote(var.type)}"]
        lines += ["required = true"] if var.required else []
        if var.default is not None:
            lines.append(f"default = {json.dumps(var.default, ensure_ascii=False)}")
        lines += [f"description = {_quote(var.description)}"] if var.description else []
    for step in flow.steps.values():
        lines += ["", "[[steps]]", *_step_lines(step)]
    return "\n".join(lines) + "\n"


def save(flow: Workflow, folder: Path) -> Path:
    """Write ``folder/NAME.toml`` atomically; refuse to replace an existing file."""
    text = to_toml(flow)
    try:  # what is written must load back
        from_document(tomllib.loads(text), f"{flow.name}.toml")
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowError(f"{flow.name}.toml: cannot be written as TOML ({exc})") from None
    path = free_path(flow.name, folder)
    make_dirs(folder)  # may be the first thing made in SWARM_HOME
    temporary = path.with_suffix(".toml.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def free_path(name: str, folder: Path) -> Path:
    """``folder/NAME.toml`` when NAME is a valid workflow name and no such file exists."""
    Workflow(name, source=f"{name}.toml")  # checks the name
    path = folder / f"{name}.toml"
    if path.exists():
        raise WorkflowError(f"{path} already exists: choose another name or remove it")
    return path


def _step_lines(step: Step) -> list[str]:
    lines = [f"id = {_quote(step.id)}", f"title = {_quote(step.title)}"]
    lines += [f"details = {_quote(step.details)}"] if step.details else []
    lines += [f"needs = {_names(step.needs)}"] if step.needs else []
    lines += [f"on_failure = {_names(step.on_failure)}"] if step.on_failure else []
    lines += [f"for_each = {_quote(step.for_each)}"] if step.for_each else []
    lines += ["gate = true"] if step.gate else []
    lines += [f"if = {_quote(step.when)}"] if step.when is not None else []
    lines += [f"role = {_quote(step.role)}"] if step.role else []
    lines += [f"capabilities = {_names(step.capabilities)}"] if step.capabilities else []
    lines += [f"agent = {_quote(step.agent)}"] if step.agent else []
    lines += [f"priority = {_quote(step.priority.name)}"] if step.priority.name != "normal" else []
    return lines


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, for what json.dumps writes)."""
    return json.dumps(text, ensure_ascii=False)


def _names(values: Iterable[str]) -> str:
    return "[" + ", ".join(_quote(v) for v in values) + "]"


def _literal(text: str) -> str:
    return text.replace("$", "$$")


def _step_id(ref: str) -> str:
    return ref if _ID.match(ref) else f"t-{ref}"[:64]
