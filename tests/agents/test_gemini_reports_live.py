"""swarm's own Gemini CLI policy for an agent's reports (``core.clis.gemini.policy``), as
``swarm desktop up --protocol`` writes it in the agent's workspace, with no rule of the
user's: the pinned Gemini CLI at its default approval mode runs the agent's ``swarm task
start`` unasked, while a command chained after a report, and any other command, still ask.
Without swarm's policy the report is a "Needs you" item."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.config import swarm_program
from core.agent_state import AgentState
from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from core.settings import swarm_command
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import AGENT, Rig, Swarm, started, work_folder
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = [pytest.mark.xdist_group("gemini-reports-live"), pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Gemini CLI under its host with swarm's policy only, its model scripted to report the
    task's start with the ``swarm`` command its prompt names, then a report with a command
    chained after it, then a command of its own."""
    binary = require_binary("gemini")
    root = tmp_path_factory.mktemp("gemini-reports").resolve()
    work = work_folder(root)
    reporting = swarm_command(root / "swarm", swarm_program())  # as the agent's prompt says
    chained = reporting + " task note T-1 hi; touch chained.txt"
    script = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "start the report"
steps = [{{ text = "Starting.", shell = {json.dumps(reporting + " task start T-1")} }},
         {{ text = "started" }}]

[[turns]]
match = "chain a command"
steps = [{{ text = "Chaining.", shell = {json.dumps(chained)} }}, {{ text = "chained" }}]

[[turns]]
match = "make a file"
steps = [{{ text = "Making it.", shell = "touch made.txt" }}, {{ text = "asked" }}]
"""
    model = LocalModel(root, script)
    setup = SETUPS["gemini"](binary, root / "home", work, model.url)
    with started("gemini", root, model, " ".join(setup.argv), setup.env) as made:
        yield made


async def _asked(swarm: Swarm, text: str) -> prompts.Prompt:
    """The one open prompt once the agent asks (after ``text`` is sent), denied after."""
    await swarm.service.messages.send(AGENT, text, "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()

    async def waiting() -> list[prompts.Prompt]:
        return await swarm.open_prompts()

    (asked,) = await swarm.until(waiting, within=120)
    assert (await swarm.state()).state is AgentState.WAITING
    await swarm.service.inbox.decide_prompt(asked.id, "cancel", "person")  # its Reject

    async def idle() -> bool:
        return (await swarm.state()).state is AgentState.IDLE

    await swarm.until(idle, within=120)
    return asked


async def test_the_report_runs_unasked_and_a_chained_or_other_command_asks(
    rig: Rig, swarm: Swarm
) -> None:
    await swarm.reported_unasked()
    chained = await _asked(swarm, "chain a command")
    assert "touch chained.txt" in chained.text  # a command after a report still asks
    other = await _asked(swarm, "make a file")
    assert "touch made.txt" in other.text  # anything else still asks
    assert not (rig.work / "chained.txt").exists() and not (rig.work / "made.txt").exists()
