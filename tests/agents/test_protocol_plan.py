"""Claude Code in plan mode over its stream-json (issue 50; issue 53, item 5): the agents file's
command is the user's ``claude --permission-mode plan``, started by ``swarm desktop up
--protocol`` as a user starts it, under swarm's host, against localmodel. Its plan comes to
swarm as the ``ExitPlanMode`` tool's permission request: one "Needs you" item that shows the
plan itself and Claude Code's own choices; approved, the agent leaves plan mode and does the
work; "No" keeps it planning and nothing is done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import (
    AGENT,
    QUIETING,
    Rig,
    Swarm,
    _asked,
    started,
    work_folder,
)
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = pytest.mark.xdist_group("claude-code-live")
PLAN = "My plan: 1. create planned.txt with one line; 2. say it is made."


def script(work: Path) -> str:
    """The model's turns: a plan, then the file it plans (Write takes an absolute path)."""
    return f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "plan a file you must not make"
steps = [{{ text = "My plan: 1. create unwanted.txt.", tool = "ExitPlanMode", input = {{}} }},
         {{ text = "I will revise the plan." }}]

[[turns]]
match = "plan the file"
[[turns.steps]]
text = {json.dumps(PLAN)}
tool = "ExitPlanMode"
input = {{}}
[[turns.steps]]
text = "Making it."
tool = "Write"
input = {{ file_path = "{work}/planned.txt", content = "made" }}
[[turns.steps]]
text = "planned file made"
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Claude Code in plan mode, started by ``swarm desktop up --protocol``."""
    binary = require_binary("claude-code")
    root = tmp_path_factory.mktemp("protocol-plan").resolve()
    work = work_folder(root)
    model = LocalModel(root, script(work))
    setup = SETUPS["claude-code"](binary, root / "home", work, model.url)
    command = " ".join([*setup.argv, "--permission-mode", "plan"])
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started("claude-code", root, model, command, env) as made:
        yield made


async def _plan_asked(swarm: Swarm, text: str) -> prompts.Prompt:
    await swarm.service.messages.send(AGENT, text, "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    head = "Allow leaving plan mode to carry out this plan?\nkind: ExitPlanMode\nplan: My plan"
    assert asked.text.startswith(head), asked.text
    assert [o.label for o in asked.options] == [
        "Yes, and auto-accept edits",
        "Yes, and manually approve edits",
        "No, keep planning",
    ]
    assert (await swarm.state()).state is AgentState.WAITING
    return asked


async def _idle(swarm: Swarm) -> bool:
    idle = (await swarm.state()).state is AgentState.IDLE
    return idle and not await swarm.service.store.read(prompts.open_prompts, AGENT)


@pytest.mark.timeout(240)
async def test_keep_planning_does_nothing_and_the_agent_stays_in_plan_mode(
    rig: Rig, swarm: Swarm
) -> None:
    asked = await _plan_asked(swarm, "plan a file you must not make")
    assert "unwanted.txt" in asked.text  # the plan, from the model's words in its turn
    await swarm.service.inbox.decide_prompt(asked.id, "keep-planning", "person")
    await swarm.until(lambda: _idle(swarm))
    assert not (rig.work / "unwanted.txt").exists()


@pytest.mark.timeout(240)
async def test_a_plan_approved_with_auto_accept_edits_is_carried_out_without_asking_again(
    rig: Rig, swarm: Swarm
) -> None:
    """Before: the item read "Allow ExitPlanMode?" with no plan and offered Yes/No; "Yes"
    left plan mode and its first edit asked again."""
    asked = await _plan_asked(swarm, "plan the file")
    assert PLAN in asked.text
    await swarm.service.inbox.decide_prompt(asked.id, "plan-accept-edits", "person")
    seen: set[int] = set()

    async def done() -> bool:
        seen.update(p.id for p in await swarm.service.store.read(prompts.open_prompts, AGENT))
        return await _idle(swarm)

    await swarm.until(done, within=90)
    assert (rig.work / "planned.txt").read_text() == "made"
    assert seen <= {asked.id}  # its edit asked nothing: edits are accepted from now on
