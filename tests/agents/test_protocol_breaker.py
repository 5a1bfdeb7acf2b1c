"""An account's breaker with the real CLI (issue 51, items 2, 3 and 6): three Claude Code
agents over their stream-json, started by ``swarm desktop up --protocol`` as a user starts
them, against localmodel: A and A2 of account ``team-a``, B of ``team-b``. The model answers
A's task with a 429 whose reset is seconds away: swarm reads A ``limited`` from Claude Code's
own retry, and the breaker holds A2 too at once; a ready task goes to B, not to A2, idle on
the limited account. Past the reset, a task for A2 is the account's probe: A2 taking it closes
the breaker. Every task runs exactly once (one assignment each, each prompt asked of the model
once but for the retry of the 429)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.accounts import breaker
from core.agent_state import AgentState
from core.agents import _signals as agent_signals
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from tests.agents.launch import SETUPS, _git
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import QUIETING, Rig, Swarm, started, work_folder
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = [pytest.mark.xdist_group("claude-code-live"), pytest.mark.timeout(300)]
ACCOUNTS = {"A": "team-a", "A2": "team-a", "B": "team-b"}
RESET_S = 5  # the 429's reset: long enough to give out a task while it holds
SCRIPT = f"""
default = [{{ text = "localmodel default answer" }}]

[[turns]]
match = "hit the limit"
steps = [{{ rate_limit = true, retry_after = {RESET_S}, reset_in = {RESET_S}, times = 1 }},
         {{ text = "through after the limit" }}]
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Three Claude Code agents on two accounts, one HOME (a user's), a workspace each."""
    binary = require_binary("claude-code")
    root = tmp_path_factory.mktemp("protocol-breaker").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS["claude-code"](binary, root / "home", work, model.url)
    state = root / "home" / ".claude.json"
    trusted = json.loads(state.read_text(encoding="utf-8"))
    for agent in ACCOUNTS:
        if agent != "A":
            (root / f"work-{agent}").mkdir()
            _git(root / f"work-{agent}")
            trusted["projects"][str(root / f"work-{agent}")] = trusted["projects"][str(work)]
    state.write_text(json.dumps(trusted), encoding="utf-8")
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    command = " ".join(setup.argv)
    with started("claude-code", root, model, command, env, ACCOUNTS) as made:
        yield made


async def _state(swarm: Swarm, agent: str) -> agent_signals.StateRow:
    return await swarm.service.store.read(agent_signals.get_state, agent)


async def _task(swarm: Swarm, text: str, agent: str | None = None) -> Any:
    return await swarm.service.tasks.create(TaskSpec(text, text, agent=agent), "me")


async def test_the_first_limit_holds_the_account_and_its_work_goes_elsewhere_once(
    rig: Rig, swarm: Swarm
) -> None:
    service, scheduler = swarm.service, Scheduler(swarm.service, swarm.deliverer)
    limited = await _task(swarm, "hit the limit", agent="A")
    assert (await scheduler.run_burst()).delivered == 1

    async def held() -> Any:
        row = await _state(swarm, "A")
        found = await service.store.read(breaker.get, "team-a")
        return found if row.state is AgentState.LIMITED and found is not None else None

    opened = await swarm.until(held)
    assert opened.state == breaker.OPEN and opened.agent == "A", opened
    assert (await _state(swarm, "A2")).state is not AgentState.LIMITED  # A2 saw no 429

    ready = await _task(swarm, "ready work")  # any dev: A2 is idle, but team-a is held
    assert (await scheduler.run_burst()).delivered == 1
    assert (await service.tasks.get(ready.id)).agent == "B"

    async def through() -> Any:  # Claude Code's own retry, after the reset, answered
        events = await service.history.events(0, 10_000)
        return [e for e in events if e.kind == "agent.turn" and e.task_id == limited.id]

    await swarm.until(through, within=90)
    await service.tasks.complete(limited.ref, "A")
    await service.tasks.complete(ready.ref, "B")
    probe = await _task(swarm, "the probe", agent="A2")

    async def closed() -> Any:  # past the reset the breaker lets one task through: A2's
        await scheduler.run_burst()
        found = await service.store.read(breaker.get, "team-a")
        assert found is not None
        return found.state == breaker.CLOSED and (await service.tasks.get(probe.id)).agent == "A2"

    await swarm.until(closed, within=60)
    events = await service.history.events(0, 10_000)
    ended = [e.text for e in events if e.kind == "account.limit_ended"]
    assert len(ended) == 1 and ended[0].startswith("team-a's usage limit is over"), ended
    opened_events = [e.text for e in events if e.kind == "account.limited"]
    assert len(opened_events) == 1, opened_events
    assigned = [e.task_id or 0 for e in events if e.kind == "task.assigned"]
    assert sorted(assigned) == sorted([limited.id, ready.id, probe.id])  # each once
    asked = [str(r.get("prompt") or "") for r in rig.model.requests()]
    assert sum("hit the limit" in p for p in asked) == 2  # the 429, then its retry
    assert sum("ready work" in p for p in asked) == 1
