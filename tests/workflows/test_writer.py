"""A plan saved as a workflow file: it loads back equal, texts stay literal, nothing is
replaced; ``swarm plan --save-workflow`` against the local model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from localmodel import LocalModel

from core.planning._model import Plan, PlanItem
from core.workflows import Workflow, WorkflowError, loader
from core.workflows.expand import expand, resolve_vars
from core.workflows.writer import from_plan, save, to_toml
from tests.ai.conftest import VALID, plan_reply
from tests.ai.test_cli_ai import model_env
from tests.helpers import run_cli


def test_a_plan_becomes_a_workflow_that_loads_back(tmp_path: Path) -> None:
    plan = Plan(
        1,
        "goal",
        'Ship "it" for $5',
        "draft",
        (
            PlanItem("a", "Design the $API", "Write \\ a\n\tspec", "architecture", "high"),
            PlanItem("2", "Build ${it}", "", None, "normal", ("a",)),
        ),
    )
    flow = from_plan(plan, "ship")
    path = save(flow, tmp_path / "workflows")
    loaded = loader.load_file(path)
    assert loaded.to_json() == flow.to_json()
    planned = expand(loaded, resolve_vars(loaded, {}))
    assert [(p.spec.ref, p.spec.title, p.spec.after) for p in planned] == [
        ("a", "Design the $API", ()),
        ("t-2", "Build ${it}", ("a",)),
    ]
    assert planned[0].spec.details == "Write \\ a\n\tspec"
    with pytest.raises(WorkflowError, match=r"ship\.toml already exists"):
        save(flow, tmp_path / "workflows")
    assert path.read_text(encoding="utf-8") == to_toml(flow)


def test_every_field_survives_the_round_trip(tmp_path: Path) -> None:
    flow = (
        Workflow("all", "every field")
        .var("v", required=True, description="d")
        .var("l", "list", default=["x", "y"])
        .var("n", "int", default=3)
        .var("b", "bool", default=False)
        .step("a", "A ${v}", role="qa", capabilities=["python"], priority="urgent")
        .step("e", "E ${item}", for_each="l", needs=["a"], when="not ${b}")
        .step("g", "G", gate=True, needs=["e"])
        .step("f", "F", on_failure=["e"], agent="Agent-1")
        .check()
    )
    assert loader.load_file(save(flow, tmp_path)).to_json() == flow.to_json()


async def test_plan_save_workflow_from_the_cli(home: Path) -> None:
    async with LocalModel() as server:
        server.queue(plan_reply(*VALID))
        env = model_env(server)
        made = await asyncio.to_thread(
            run_cli, home, "plan", "Harden login", "--yes", "--save-workflow", "harden", env=env
        )
        assert made.code == 0, made.err
        assert "P-1 saved as workflow harden" in made.out
        taken = await asyncio.to_thread(
            run_cli, home, "plan", "Again", "--yes", "--save-workflow", "harden", env=env
        )
        assert taken.code == 2 and "harden.toml already exists" in taken.err
        assert len(server.requests) == 1, "a taken name stops before the model is asked"
    shown = run_cli(home, "workflow", "show", "harden", "--json")
    assert [s["id"] for s in json.loads(shown.out)["steps"]] == list("abcd")
    dry = run_cli(home, "workflow", "run", "harden", "--dry-run")
    assert dry.code == 0 and "Task c" in dry.out
