"""Issue 78 on the protocol route: the real Codex through codex-acp (pinned), sandboxed
(``sandbox = true``: its network its own, by default for Codex) or not but with ``gateway =
true`` (its base URL at swarm's relay on the host's loopback), started by ``swarm desktop up
--protocol`` after ``swarm workspaces init``, does a turn of a task. It reaches localmodel only
through swarm's gateway, with the provider swarm names on codex-acp's command line; the
person's key stays outside (the host's child holds a placeholder); the gateway's records are
booked as ``swarm run``'s watch books them, on the task, equal to localmodel's count."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from automation.protocol.watch import ProtocolWatch
from automation.routes import build_deliverer
from core.agents._judge import Freshness
from core.coordinator.prompt_keys import PromptKeys
from core.coordinator.scheduler import Scheduler
from core.costs.usage_place import WIRE_SAID
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import values
from core.watch.usage_files import UsageFiles
from tests.agents.launch import _git
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_costs_known_live import AGENT, Rig
from tests.agents.test_protocol_live import IN, OUT, SCRIPT, Swarm
from tests.agents.test_sandbox_codex_acp_noprompt_live import codex_agent, up_protocol
from tests.agents.test_sandbox_codex_live import _codex_environ
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.xdist_group("protocol-live")
KEY = "sk-person-codex-acp-key-42"


@pytest.fixture(params=["sandbox", "gateway"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    binary = require_binary("codex")
    if request.param == "sandbox" and shutil.which("bwrap") is None:
        skip_or_fail("bwrap is not installed (apt-get install bubblewrap)")
    made = Rig("codex", tmp_path.resolve())
    made.repo.mkdir()
    _git(made.repo, commit=True)
    model = LocalModel(made.root, SCRIPT)
    codex_agent(made, made.root / "home", model, str(binary), KEY, str(request.param),
                "[features]\ndaemon_auto_start = false\n\n")  # fmt: skip
    yield from up_protocol(made, model)


@pytest.fixture
async def swarm(rig: Rig) -> AsyncIterator[Swarm]:
    service = await SwarmService.open(rig.settings)
    deliverer = build_deliverer(rig.settings, list(service.agents.values()), service.kill_switch)
    watch = ProtocolWatch(service, Freshness())
    await watch.start()
    usage = UsageFiles(service.store)
    await usage.tick()
    made = Swarm(service, deliverer, watch, PromptKeys(service, deliverer, None), usage)
    try:
        yield made
    finally:
        await made.watch.stop()
        deliverer.close()
        await made.service.close()


def _ledger(conn: Any, task: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT source, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens "
        "FROM turn_usage WHERE task_id = $1",
        (task,),
    ).fetchall()
    return [dict(zip(r.keys(), values(r), strict=True)) for r in rows]


@pytest.mark.timeout(300)
async def test_a_sandboxed_codex_acp_turn_is_booked_from_the_wire(rig: Rig, swarm: Swarm) -> None:
    assert (await swarm.service.explain_agent(AGENT))["usage"] == WIRE_SAID
    task = await swarm.service.tasks.create(
        TaskSpec("count my tokens", "count my tokens", agent=AGENT), "me"
    )
    burst = asyncio.create_task(Scheduler(swarm.service, swarm.deliverer).run_burst())
    while not burst.done():
        await swarm.watch.fire()
        await asyncio.sleep(0.1)
    assert (await burst).delivered >= 1

    async def found() -> list[dict[str, Any]]:
        return await swarm.service.store.read(_ledger, task.id)

    (row,) = await swarm.until(found, within=150)
    assert row["source"] == "wire" and row["output_tokens"] == OUT, row
    assert row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"] == IN, row
    inside = _codex_environ()
    assert KEY not in inside.values() and inside["OPENAI_API_KEY"] != KEY, inside
    model: LocalModel = rig.model  # type: ignore[attr-defined]
    asked = [r for r in model.requests() if r["path"] == "/v1/responses"]
    assert asked and all("authorization" in {h.lower() for h in r["headers"]} for r in asked)
