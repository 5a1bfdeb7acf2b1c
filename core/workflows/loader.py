"""Workflow files: TOML read with tomllib and built through the Python API; where they live
(``$SWARM_HOME/workflows/`` first, then the ones bundled with swarm)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.formats.tomltext import TomlError, loads
from core.settings import bundled_file
from core.workflows.model import Workflow, WorkflowError

TOP_KEYS = {"name", "description", "vars", "steps"}
VAR_KEYS = {"type", "required", "default", "description"}
STEP_KEYS = {
    "id",
    "title",
    "details",
    "needs",
    "on_failure",
    "for_each",
    "gate",
    "if",
    "role",
    "capabilities",
    "agent",
    "priority",
}
MAX_FILE_BYTES = 1_000_000


def load_file(path: Path) -> Workflow:
    """Read and check one workflow file; WorkflowError naming the file otherwise."""
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorkflowError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise WorkflowError(f"{source}: larger than {MAX_FILE_BYTES:,} bytes")
    try:
        document = loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WorkflowError(f"{source}: not UTF-8 text") from None
    except TomlError as exc:
        raise WorkflowError(f"{source}: not valid TOML ({exc})") from None
    return from_document(document, source, default_name=path.stem)


def from_document(document: dict[str, Any], source: str, default_name: str = "") -> Workflow:
    """Build a checked Workflow from a parsed TOML document."""
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise WorkflowError(
            f"{source}: unknown key {unknown[0]!r} (keys are {', '.join(sorted(TOP_KEYS))})"
        )
    name = document.get("name", default_name)
    description = document.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise WorkflowError(f"{source}: name and description must be strings")
    flow = Workflow(name, description, source)
    variables = document.get("vars", {})
    if not isinstance(variables, dict):
        raise flow.fail("vars must be a table of [vars.NAME] tables")
    for var_name, spec in variables.items():
        _add_var(flow, var_name, spec)
    steps = document.get("steps", [])
    if not isinstance(steps, list):
        raise flow.fail("steps must be an array of [[steps]] tables")
    for index, spec in enumerate(steps, 1):
        _add_step(flow, index, spec)
    return flow.check()


def _add_var(flow: Workflow, name: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        raise flow.fail(f'variable "{name}" must be a table ([vars.{name}])')
    unknown = sorted(set(spec) - VAR_KEYS)
    if unknown:
        raise flow.fail(
            f'variable "{name}": unknown key {unknown[0]!r} (keys are '
            f"{', '.join(sorted(VAR_KEYS))})"
        )
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise flow.fail(f'variable "{name}": required must be true or false')
    kind = spec.get("type", "string")
    flow.var(
        name,
        kind if isinstance(kind, str) else repr(kind),
        required=required,
        default=spec.get("default"),
        description=str(spec.get("description", "")),
    )


def _add_step(flow: Workflow, index: int, spec: Any) -> None:
    if not isinstance(spec, dict):
        raise flow.fail(f"steps[{index}] must be a table")
    step_id = spec.get("id")
    if not isinstance(step_id, str):
        raise flow.fail(f"steps[{index}] has no id (a string)")
    unknown = sorted(set(spec) - STEP_KEYS)
    if unknown:
        raise flow.fail(
            f"unknown key {unknown[0]!r} (keys are {', '.join(sorted(STEP_KEYS))})", step_id
        )
    gate = spec.get("gate", False)
    if not isinstance(gate, bool):
        raise flow.fail("gate must be true or false", step_id)
    flow.step(
        step_id,
        spec.get("title", ""),
        details=spec.get("details", ""),
        needs=spec.get("needs", ()),
        on_failure=spec.get("on_failure", ()),
        for_each=spec.get("for_each"),
        gate=gate,
        when=spec.get("if"),
        role=spec.get("role"),
        capabilities=spec.get("capabilities", ()),
        agent=spec.get("agent"),
        priority=spec.get("priority", "normal"),
    )


def bundled_folder() -> Path:
    """The workflows shipped with swarm (package data ``core/bundled/workflows``)."""

    return bundled_file("workflows")


def folders(home: Path) -> list[Path]:
    """Where workflows are found, first wins: ``$SWARM_HOME/workflows``, then the bundled."""
    return [home / "workflows", bundled_folder()]


def available(home: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every workflow file, the home folder's hiding bundled ones."""
    seen: set[str] = set()
    for folder in folders(home):
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            if path.stem not in seen:
                seen.add(path.stem)
                yield path.stem, path


def catalog(home: Path) -> list[tuple[str, Path, Workflow | WorkflowError]]:
    """Every available workflow, loaded, or the error of a file that does not load (one bad
    file does not hide the others)."""
    found: list[tuple[str, Path, Workflow | WorkflowError]] = []
    for name, path in available(home):
        try:
            found.append((name, path, load_file(path)))
        except WorkflowError as exc:
            found.append((name, path, exc))
    return found


def find(home: Path, name_or_file: str) -> Workflow:
    """A workflow by name (home folder, then bundled) or by the path of a ``.toml`` file."""
    if name_or_file.endswith(".toml") or "/" in name_or_file:
        return load_file(Path(name_or_file).expanduser())
    for name, path in available(home):
        if name == name_or_file:
            return load_file(path)
    known = ", ".join(name for name, _ in available(home)) or "none"
    raise WorkflowError(f"unknown workflow {name_or_file!r}: workflows are {known}")
