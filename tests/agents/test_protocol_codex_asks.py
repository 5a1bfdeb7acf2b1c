"""Codex over ACP (codex-acp) when its user's approval policy asks (issue 50, item 3): with
``approval_policy = "untrusted"`` in the user's ``config.toml`` (at its defaults Codex runs the
scripted command without asking), a shell command the model runs is a ``session/request_
permission`` with Codex's own options: one "Needs you" item; allowed, it runs; rejected, it
does not. Codex started by ``swarm desktop up --protocol`` as a user starts it, under swarm's
host, against localmodel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.agent_state import AgentState
from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import (
    AGENT,
    SCRIPT,
    Rig,
    Swarm,
    _asked,
    started,
    work_folder,
)
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = pytest.mark.xdist_group("codex-live")


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Codex, its user's config asking before commands, started by ``desktop up --protocol``."""
    binary = require_binary("codex")
    root = tmp_path_factory.mktemp("protocol-codex-asks").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS["codex"](binary, root / "home", work, model.url)
    config = root / "home" / ".codex" / "config.toml"
    # asking before each command is the user's choice; no sandbox, so that an approved
    # command runs wherever bubblewrap is missing (codex-acp's binary finds no bundled one:
    # "bubblewrap is unavailable", 1 run in 3 here)
    asks = 'approval_policy = "untrusted"\nsandbox_mode = "danger-full-access"\n'
    config.write_text(asks + config.read_text(), encoding="utf-8")
    with started("codex", root, model, " ".join(setup.argv), setup.env) as made:
        yield made


async def _idle(swarm: Swarm) -> bool:
    idle = (await swarm.state()).state is AgentState.IDLE
    return idle and not await swarm.service.store.read(prompts.open_prompts, AGENT)


@pytest.mark.timeout(240)
async def test_codex_asks_with_its_own_options_and_allowed_the_command_runs(
    rig: Rig, swarm: Swarm
) -> None:
    await swarm.service.messages.send(AGENT, "make the allowed file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    assert asked.text.startswith("Allow touch allowed.txt?\nkind: execute\n"), asked.text
    assert 'command: ["/bin/bash", "-lc", "touch allowed.txt"]' in asked.text
    assert "call_id" not in asked.text and "available_decisions" not in asked.text
    assert [o.label for o in asked.options] == [
        "Yes, proceed",
        "Yes, and don't ask again for commands that start with `touch allowed.txt`",
        "No, and tell Codex what to do differently",
    ]  # Codex's own words
    assert (await swarm.state()).state is AgentState.WAITING
    await swarm.service.inbox.decide_prompt(asked.id, "approved", "person")
    await swarm.until(lambda: _idle(swarm), within=90)
    assert (rig.work / "allowed.txt").exists()


@pytest.mark.timeout(240)
async def test_codex_asks_and_rejected_the_command_does_not_run(rig: Rig, swarm: Swarm) -> None:
    await swarm.service.messages.send(AGENT, "make the refused file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    assert "touch refused.txt" in asked.text
    await swarm.service.inbox.decide_prompt(asked.id, "abort", "person")
    await swarm.until(lambda: _idle(swarm), within=90)
    assert not (rig.work / "refused.txt").exists()
