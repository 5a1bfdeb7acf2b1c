"""Hooks that do not speak after a prompt reached their agent are an alert at once, said by
``swarm agents explain``; their next word clears it (issue 53, item 1). Agents without
``hooks = true`` (no hooks of swarm's installed) are never judged so (real store, manual
clock, hook events as Codex and Claude Code send them)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.agent_hooks import explain_text
from core.agents import _hook_events as hook_events
from core.coordinator.jobs import Watcher
from core.models import Receipt, TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.settings import WatchSettings
from core.watch.stalls import freshness
from tests.watch.conftest import FakeFrames, kinds, watch_settings

pytestmark = pytest.mark.both_databases
PROOF_S = WatchSettings().hooks_silent_s  # the default, 30 s

AGENTS = """
[[agent]]
id = "Codex-1"
role = "dev"
delivery = "tmux"
tmux = "swarm-Codex-1:0"
cli = "codex"
hooks = true

[[agent]]
id = "Plain-1"
role = "dev"
delivery = "tmux"
tmux = "swarm-Plain-1:0"
cli = "codex"
"""


@pytest.fixture
async def hooked(
    settings: Settings, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    path = tmp_path / "agents.toml"
    path.write_text(AGENTS)
    service = await SwarmService.open(dataclasses.replace(settings, config_path=path), clock)
    yield service
    await service.close()


async def deliver(service: SwarmService, agent: str) -> None:
    """A task pinned to ``agent``; its prompt reaches it."""
    await service.tasks.create(TaskSpec("work", agent=agent), "test")
    await service.queue.assign_batch()
    while (delivery := await service.queue.claim_delivery()) is not None:
        await service.queue.record_receipt(delivery, Receipt.delivered("test"))


async def test_hooks_silent_after_a_prompt_are_an_alert_until_they_speak(
    hooked: SwarmService, clock: ManualClock, frames: FakeFrames
) -> None:
    settings = watch_settings(interval_s=1.0)
    watcher = Watcher(hooked, settings, frames)
    assert hooked.agents["Codex-1"].hooks and not hooked.agents["Plain-1"].hooks
    await deliver(hooked, "Codex-1")
    await deliver(hooked, "Plain-1")
    arrived = clock.now()
    opened_at = None
    for _ in range(int(PROOF_S) + 3):
        clock.advance(1)
        report = await watcher.tick()
        if report.opened:
            opened_at = clock.now()
            break
    assert report.opened == ["Codex-1 hooks_silent"]  # Plain-1 has no hooks of swarm's
    assert opened_at is not None and opened_at - arrived <= PROOF_S + 1
    at = time.strftime("%H:%M:%S", time.localtime(arrived))
    (alert,) = await kinds(hooked, "alert.opened")
    assert alert.text.startswith(
        f"Codex-1's hooks have not spoken at all: a prompt reached it at {at} and no hook "
        f"event came in {PROOF_S:.0f} s"
    )
    assert "Hooks need review" in alert.text
    shown = explain_text(await hooked.explain_agent("Codex-1"))
    assert "Codex-1's hooks have not spoken at all" in shown
    assert [n.agent for n in await hooked.inbox.needs() if n.kind == "alert"] == ["Codex-1"]
    clock.advance(1)
    assert (await watcher.tick()).opened == []  # one alert, not one per look
    fresh = freshness(hooked.ctx("test"), settings)
    for name in ("UserPromptSubmit", "Stop"):  # its turn, heard
        raw = json.dumps({"hook_event_name": name, "session_id": "s"})
        await hooked.store.write(
            "Codex-1", hook_events.record, "Codex-1", hook_events.parse(raw), fresh, False
        )
    clock.advance(1)
    await watcher.tick()
    (cleared,) = await kinds(hooked, "alert.cleared")
    assert cleared.text == "Codex-1's hooks speak again"
    # a later message: the hook spoke before it was queued, not after: silent again
    await hooked.messages.send("Codex-1", "one more thing", "discord:ann")
    delivery = await hooked.queue.claim_delivery()
    assert delivery is not None and delivery.agent == "Codex-1"
    await hooked.queue.record_receipt(delivery, Receipt.delivered("test"))
    clock.advance(PROOF_S + 1)
    report = await watcher.tick()
    assert report.opened == ["Codex-1 hooks_silent"]
    second = (await kinds(hooked, "alert.opened"))[-1]
    assert second.text.startswith("Codex-1's hooks have not spoken since ")
