"""A screen no rule knows is never idle (issue 53, item 4): its agent reads ``unknown``, and
once it has shown it for ``UNKNOWN_AFTER_S`` an ``unknown-screen`` alert puts its last lines
in "Needs you" and holds it from new tasks; a known screen clears it (and a hold from a
delivery that found its input not on its pane)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents import _alerts as alerts
from core.agents._text_rules import load_rule_sets
from core.clis import panes
from core.delivery._receipts import INPUT_NOT_ON_PANE
from core.inbox import needs as inbox
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import UNKNOWN_AFTER_S, TextWatcher
from tests.helpers import write_agents
from tests.tmux_server import Tmux, wait_text

STRANGE = "Choose a colour theme for this terminal\n  red\n  green\n(press q to skip)"


@pytest.fixture
async def service(
    home: Path, tmp_path: Path, tmux: Tmux, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """Agent A, a Claude Code agent on the pane swarm:a."""
    config = write_agents(
        tmp_path / "agents.toml",
        [{"id": "A", "role": "dev", "tmux": "swarm:a", "tmux_socket": str(tmux.socket),
          "cli": "claude-code"}],
    )  # fmt: skip
    settings = Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    svc = await SwarmService.open(settings, clock)
    yield svc
    await svc.close()


async def open_alerts(service: SwarmService) -> list[alerts.Alert]:
    return await service.store.read(alerts.list_alerts)


async def test_an_unknown_screen_is_an_alert_with_its_last_lines_and_holds_the_agent(
    service: SwarmService, tmux: Tmux, tmp_path: Path, clock: ManualClock
) -> None:
    strange = tmp_path / "strange.txt"
    strange.write_text(STRANGE, encoding="utf-8")
    tmux.window("swarm", "a", f"cat {strange}; sleep 600")
    wait_text(tmux.ref("swarm:a"), "press q to skip")
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:
        (seen,) = await text.tick()
        assert seen.state is AgentState.UNKNOWN  # never idle
        assert await open_alerts(service) == []  # a CLI's start passes quicker
        clock.advance(UNKNOWN_AFTER_S)
        await text.tick()
        (alert,) = await open_alerts(service)
        assert (alert.agent, alert.kind) == ("A", alerts.UNKNOWN_SCREEN)
        lines = alert.text.splitlines()
        assert lines[0] == "A shows a screen swarm does not know:"
        assert lines[1:5] == STRANGE.splitlines()
        clock.advance(5.0)
        await text.tick()
        assert len(await open_alerts(service)) == 1  # one alert, not one a look
        needs = await service.store.read(inbox.needs)
        assert [n.text.splitlines()[0] for n in needs if n.agent == "A"] == [lines[0]]
        # held: a task pinned to A is not handed to it
        task = await service.tasks.create(TaskSpec("do it"), "me")
        await service.tasks.assign(task.id, "A", "me")
        assert await service.queue.assign_next() is None
        # the screen becomes one swarm knows (its input box): both holds end
        tmux.run("respawn-pane", "-k", "-t", "swarm:a",
                 f"cat {panes('claude-code') / 'input.txt'}; sleep 600")  # fmt: skip
        wait_text(tmux.ref("swarm:a"), "? for shortcuts")
        clock.advance(5.0)
        (seen,) = await text.tick()
        assert seen.state is AgentState.IDLE
        assert await open_alerts(service) == []
        assert (await service.queue.assign_next()) is not None
    finally:
        await text.close()


async def test_its_input_seen_again_ends_a_delivery_hold(
    service: SwarmService, tmux: Tmux, clock: ManualClock
) -> None:
    task = await service.tasks.create(TaskSpec("do it"), "me")
    await service.tasks.assign(task.id, "A", "me")
    await service.queue.assign_next()
    delivery = await service.queue.claim_delivery()
    assert delivery is not None
    await service.queue.record_receipt(delivery, Receipt.failed(INPUT_NOT_ON_PANE))
    assert [a.kind for a in await open_alerts(service)] == [alerts.INPUT_UNSEEN]
    tmux.window("swarm", "a", f"cat {panes('claude-code') / 'working.txt'}; sleep 600")
    wait_text(tmux.ref("swarm:a"), "esc to interrupt")
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:
        await text.tick()  # working: its input is not seen yet
        assert [a.kind for a in await open_alerts(service)] == [alerts.INPUT_UNSEEN]
        tmux.run("respawn-pane", "-k", "-t", "swarm:a",
                 f"cat {panes('claude-code') / 'input.txt'}; sleep 600")  # fmt: skip
        wait_text(tmux.ref("swarm:a"), "? for shortcuts")
        clock.advance(5.0)
        await text.tick()
        assert await open_alerts(service) == []
    finally:
        await text.close()
