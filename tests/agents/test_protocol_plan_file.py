"""Claude Code in plan mode over its stream-json, started by ``swarm desktop up --protocol``
as in ``test_protocol_plan`` (its fixture: a Claude Code of this module's own, since a plan
file written stays its session's, the plan of every later request there): the plan a
person is asked about is the session's plan file as the model's own ``Write`` and ``Edit``
made it, read from the stream, never from the file."""

from __future__ import annotations

import json
import re

import pytest

from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from tests.agents.test_protocol_live import AGENT, Rig, Swarm
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts
from tests.agents.test_protocol_plan import _idle
from tests.agents.test_protocol_plan import rig as rig  # a Claude Code of this module's

pytestmark = pytest.mark.xdist_group("claude-code-live")


@pytest.mark.timeout(240)
async def test_the_plan_shown_is_the_plan_file_as_the_models_write_and_edit_made_it(
    rig: Rig, swarm: Swarm
) -> None:
    """The real Claude Code's stream: the model writes its session's plan file (the name its
    system prompt gives), edits it, then asks to leave plan mode. The request carries the
    file's text as those two tool calls made it, read from the stream: the host reads no
    file (the path is the model's to name)."""
    await swarm.service.messages.send(AGENT, "look around first", "me")  # its first request
    await Scheduler(swarm.service, swarm.deliverer).run_burst()

    async def named() -> re.Match[str] | None:
        return re.search(r"create your plan at (\S+?\.md)", json.dumps(rig.model.requests()))

    plan_file = (await swarm.until(named)).group(1)
    script = rig.model.admin.script()
    script["turns"].append({"match": "plan from your file", "steps": [
        {"tool": "Write", "input": {"file_path": plan_file, "content": "# Plan\n1. old step\n"}},
        {"tool": "Edit", "input": {"file_path": plan_file, "old_string": "old step",
                                   "new_string": "the edited step"}},
        {"text": "The plan is in its file.", "tool": "ExitPlanMode", "input": {}},
        {"text": "I will revise the plan."},
    ]})  # fmt: skip
    rig.model.admin.set_script(script)
    await swarm.service.messages.send(AGENT, "plan from your file", "me")

    async def asked_now() -> prompts.Prompt | None:  # (delivered once its first turn ended)
        await Scheduler(swarm.service, swarm.deliverer).run_burst()
        found = await swarm.service.store.read(prompts.open_prompts, AGENT)
        return found[0] if found else None

    asked = await swarm.until(asked_now, within=120)
    assert asked.text.endswith("plan:\n# Plan\n1. the edited step"), asked.text
    assert "The plan is in its file." not in asked.text
    await swarm.service.inbox.decide_prompt(asked.id, "keep-planning", "person")
    await swarm.until(lambda: _idle(swarm))
