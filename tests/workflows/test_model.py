"""The workflow model and its TOML front door: every error names the file, the step, the
problem; the bundled examples load."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.workflows import Workflow, WorkflowError, loader
from core.workflows.expand import expand, resolve_vars
from core.workflows.model import find_cycle


def _write(tmp_path: Path, text: str, name: str = "release.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(WorkflowError) as info:
        loader.load_file(_write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    return message


STEP = '[[steps]]\nid = "bump"\ntitle = "Bump"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            STEP + '[[steps]]\nid = "tag"\ntitle = "Tag"\nneeds = ["tests"]\n',
            'release.toml: step "tag": needs unknown step "tests"',
        ),
        (
            STEP + '[[steps]]\nid = "fix"\ntitle = "F"\non_failure = ["nope"]\n',
            'release.toml: step "fix": on_failure names unknown step "nope"',
        ),
        (
            '[[steps]]\nid = "a"\ntitle = "A"\nneeds = ["b"]\n'
            '[[steps]]\nid = "b"\ntitle = "B"\nneeds = ["a"]\n',
            "release.toml: dependency cycle: a -> b -> a",
        ),
        (STEP + 'title2 = "x"\n', "release.toml: step \"bump\": unknown key 'title2'"),
        (
            '[[steps]]\nid = "bump"\ntitle = "Bump ${version}"\n',
            'release.toml: step "bump": title uses unknown variable ${version}',
        ),
        (
            '[[steps]]\nid = "bump"\ntitle = "Bump ${item}"\n',
            'release.toml: step "bump": title uses unknown variable ${item} (only a for_each',
        ),
        ('[vars.v]\ntype = "float"\n' + STEP, 'release.toml: variable "v": type must be one of'),
        (
            '[vars.v]\nrequired = true\ndefault = "1"\n' + STEP,
            'release.toml: variable "v": a required variable has no default',
        ),
        (
            '[vars.v]\ntype = "int"\ndefault = "x"\n' + STEP,
            "release.toml: variable \"v\": default 'x' is not a int",
        ),
        (
            '[vars.v]\ndefault = "x"\n' + STEP + 'for_each = "v"\n',
            'release.toml: step "bump": for_each needs a list variable: "v" is string',
        ),
        (STEP + STEP, 'release.toml: step "bump": is declared twice'),
        (STEP + 'gate = true\nrole = "qa"\n', 'release.toml: step "bump": a gate is approved'),
        (STEP + 'priority = "huge"\n', 'release.toml: step "bump": invalid priority'),
        (STEP + 'details = "$ 5"\n', 'release.toml: step "bump": details has a bad placeholder'),
        ('name = "release"\n', "release.toml: has no steps"),
        ("[[steps]\n", "release.toml: not valid TOML"),
        ("steps = 3\n", "release.toml: steps must be an array"),
        ('owner = "x"\n' + STEP, "release.toml: unknown key 'owner'"),
    ],
)
def test_bad_files_name_the_file_the_step_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert _error(tmp_path, text).startswith(expected)


def test_the_python_api_and_the_file_build_the_same_workflow(tmp_path: Path) -> None:
    by_code = (
        Workflow("release", source="release.toml")
        .var("version", required=True)
        .var("modules", "list", default=["api", "cli"])
        .step("bump", "Bump ${version}", role="integration")
        .step("review", "Review ${item}", for_each="modules", needs=["bump"])
        .step("tag", "Tag ${version}", needs=["review"], when="${version}")
        .check()
    )
    by_file = loader.load_file(
        _write(
            tmp_path,
            """
name = "release"
[vars.version]
required = true
[vars.modules]
type = "list"
default = ["api", "cli"]
[[steps]]
id = "bump"
title = "Bump ${version}"
role = "integration"
[[steps]]
id = "review"
title = "Review ${item}"
for_each = "modules"
needs = ["bump"]
[[steps]]
id = "tag"
title = "Tag ${version}"
needs = ["review"]
if = "${version}"
""",
        )
    )
    assert by_code.to_json() == by_file.to_json()


def test_the_api_refuses_at_the_call_that_is_wrong() -> None:
    flow = Workflow("w").var("n", "int", default=3)
    with pytest.raises(WorkflowError, match='workflow "w": variable "n" is declared twice'):
        flow.var("n")
    with pytest.raises(WorkflowError, match='workflow "w": step "a": title must be'):
        flow.step("a", " ")


def test_variables_are_typed_and_substituted() -> None:
    flow = (
        Workflow("w")
        .var("version", required=True)
        .var("count", "int", default=2)
        .var("publish", "bool", default=True)
        .var("mods", "list", default=["a"])
        .step(
            "s",
            "v${version} n${count} p${publish} [${mods}] $$5",
            details="${mods}",
            when="${publish}",
        )
        .step("each", "x ${item}", for_each="mods")
        .check()
    )
    values = resolve_vars(
        flow, {"version": "1.4", "count": "7", "publish": "no", "mods": "api, cli,"}
    )
    assert values == {"version": "1.4", "count": 7, "publish": False, "mods": ["api", "cli"]}
    planned = expand(flow, values)
    assert [(p.spec.ref, p.kind, p.spec.title) for p in planned] == [
        ("s", "skip", "v1.4 n7 pfalse [api, cli] $5"),
        ("each#1", "work", "x api"),
        ("each#2", "work", "x cli"),
    ]
    with pytest.raises(WorkflowError, match='variable "count" must be a whole number'):
        resolve_vars(flow, {"version": "1", "count": "seven"})
    with pytest.raises(WorkflowError, match='variable "publish" must be true or false'):
        resolve_vars(flow, {"version": "1", "publish": "maybe"})
    with pytest.raises(WorkflowError, match='variable "version" is required'):
        resolve_vars(flow, {})
    with pytest.raises(WorkflowError, match='unknown variable "versoin"'):
        resolve_vars(flow, {"version": "1", "versoin": "2"})


def test_skipped_steps_are_wired_and_fan_out_waits_for_every_item() -> None:
    flow = (
        Workflow("w")
        .var("mods", "list", default=["a", "b", "c"])
        .step("review", "R ${item}", for_each="mods")
        .step("gate", "Approve", needs=["review"], gate=True)
        .step("fix", "Fix", on_failure=["review"])
        .check()
    )
    planned = {p.spec.ref: p for p in expand(flow, resolve_vars(flow, {}))}
    assert planned["gate"].spec.after == ("review#1", "review#2", "review#3")
    assert planned["gate"].kind == "gate"
    assert planned["fix"].spec.on_failure == ("review#1", "review#2", "review#3")
    assert planned["fix"].kind == "on_failure"


def test_every_bundled_workflow_loads_and_the_home_folder_comes_first(tmp_path: Path) -> None:
    names = [name for name, _ in loader.available(tmp_path)]
    assert {"release", "review-each", "fix-until-green"} <= set(names)
    for name in names:
        assert loader.find(tmp_path, name).steps
    folder = tmp_path / "workflows"
    folder.mkdir()
    _write(folder, STEP, "release.toml")
    assert list(loader.find(tmp_path, "release").steps) == ["bump"]
    with pytest.raises(WorkflowError, match="unknown workflow 'nope': workflows are"):
        loader.find(tmp_path, "nope")


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["b"]}) == ["b", "c", "b"]
