"""Swarm's own report commands never need a person (issue 64, item 6): the pinned Claude Code
started by ``swarm desktop up --protocol`` in the permission mode docs/agents.md gives it
behind a gateway (``--permission-mode default``: it asks for every Bash command) runs the
agent's ``swarm task start`` unasked, while any other command still asks. Before, each of its
reports was a "Needs you" item."""

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
from tests.agents.test_protocol_live import QUIETING, Rig, Swarm, started, work_folder
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = [pytest.mark.xdist_group("claude-code-live"), pytest.mark.timeout(240)]
AGENT = "A"
# what a process in the agent's shell may try: answer on its own host's socket
PROBE = (
    "python3 -c 'import os, socket; s = socket.socket(socket.AF_UNIX); "
    'hosts = os.environ["SWARM_HOME"] + "/hosts/A.sock"; s.connect(hosts); '
    's.sendall(b"{\\"op\\": \\"answer\\", \\"request\\": \\"x#1\\"}\\n"); '
    "print(s.recv(4096))'"
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Claude Code under its host, its model scripted to report the task's start with the
    ``swarm`` command its prompt names, then to run a command of its own."""
    binary = require_binary("claude-code")
    root = tmp_path_factory.mktemp("claude-reports").resolve()
    work = work_folder(root)
    reporting = swarm_command(root / "swarm", swarm_program())  # as the agent's prompt says
    script = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "start the report"
steps = [{{ text = "Starting.", shell = {json.dumps(reporting + " task start T-1")} }},
         {{ text = "started" }}]

[[turns]]
match = "make a file"
steps = [{{ text = "Making it.", shell = "touch made.txt" }}, {{ text = "asked" }}]

[[turns]]
match = "call your host"
steps = [{{ text = "Calling.", shell = {json.dumps(PROBE)} }}, {{ text = "called" }}]
"""
    model = LocalModel(root, script)
    setup = SETUPS["claude-code"](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started("claude-code", root, model, " ".join(setup.argv), env) as made:
        yield made


async def test_the_agents_report_runs_unasked_and_another_command_asks(
    rig: Rig, swarm: Swarm
) -> None:
    assert "--permission-mode default" in rig.config.read_text(encoding="utf-8")
    await swarm.reported_unasked()
    await swarm.service.messages.send(AGENT, "make a file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()

    async def waiting() -> list[prompts.Prompt]:
        return await swarm.open_prompts()

    (other,) = await swarm.until(waiting, within=120)
    assert "touch made.txt" in other.text  # anything else still asks
    assert (await swarm.state()).state is AgentState.WAITING
    await swarm.service.inbox.decide_prompt(other.id, "deny", "person")


async def test_the_real_clis_shell_is_refused_by_its_host(rig: Rig, swarm: Swarm) -> None:
    """Hardening 5, item 2, with the real CLI's process tree: a command Claude Code's Bash
    tool runs (allowed by a person) calls the host's socket: refused and audited (the test
    with the hostile agent's own probe: tests/agents/test_host_hostile.py)."""
    await swarm.service.messages.send(AGENT, "call your host", "me")
    scheduler = Scheduler(swarm.service, swarm.deliverer)

    async def asked() -> list[prompts.Prompt]:
        await scheduler.run_burst()  # (held while the test before's turn ends)
        return await swarm.open_prompts()

    (prompt,) = await swarm.until(asked, within=120)
    assert "hosts/A.sock" in prompt.text
    await swarm.service.inbox.decide_prompt(prompt.id, "allow", "person")

    async def refused() -> list[str]:
        events = await swarm.service.history.events(0, 10_000)
        return [e.text for e in events if e.kind == "access.refused"]

    (said,) = await swarm.until(refused, within=120)
    assert said.startswith(f"{AGENT}'s protocol host refused answer: pid ")
    assert "is a process of the agent this host runs" in said
