"""The real Codex CLI at its defaults (its own sandbox and approvals, ``swarm`` on no PATH of
its shell) in tmux against localmodel, driven by swarm's own scheduler, tmux deliverer and
watcher (issue 53, items 1 and 2): a Codex agent reports through swarm's MCP server without
``mcp = true`` (its default, as ``swarm desktop up`` installs it), and a turn it ends without a
report is nudged at the watcher's next look; the nudge's turn reports through MCP, and a
nudge's turn that ends silent again is one "Needs you" item (item 2's second silent end).
Before: its shell said ``swarm: command not found``, it said "Finished" and went idle, and the
task was taken back by its lease 300 s later."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from automation.routes import build_deliverer
from core.agents import _workspace_files as workspace_files
from core.agents._text_rules import load_rule_sets
from core.clis import mcp_files
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec, TaskStatus
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.launch import launch, stop
from tests.helpers import ROOT
from tests.watch.conftest import kinds, watch_settings

pytestmark = pytest.mark.xdist_group("codex-live")
CLI, AGENT = "codex", "Codex-1"
READY = "? for shortcuts"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "warm up your tools"
steps = [{ tool = "my_task", input = {} }, { text = "tools ready" }]

[[turns]]
match = "write the changelog"
steps = [{ tool = "report", input = { action = "done", note = "changelog written", task = "T-1" } }, { text = "Reported T-1 done." }]

[[turns]]
match = "tidy the readme"
text = "Finished T-2."

[[turns]]
match = "Your turn ended without reporting T-2"
steps = [{ tool = "report", input = { action = "done", note = "readme tidied", task = "T-2" } }, { text = "Reported T-2 done." }]

[[turns]]
match = "sweep the docs"
text = "Finished T-3."

[[turns]]
match = "Your turn ended without reporting T-3"
text = "I already finished T-3."
"""  # noqa: E501
GRACE_S = 20.0


async def _until(check, within_s: float, step) -> None:
    """Run ``step`` (a tick of swarm) until ``check()`` is true."""
    async with asyncio.timeout(within_s):
        while not await check():
            await step()
            await asyncio.sleep(0.5)


@pytest.mark.timeout(420)
async def test_codex_at_its_defaults_reports_by_mcp_and_a_silent_turn_is_nudged(
    tmp_path: Path,
) -> None:
    home, work = tmp_path / "swarm", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    config = tmp_path / "agents.toml"
    env = {"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)}
    server = mcp_files.Server(
        sys.executable, ("-m", "bot.cli", "mcp"),
        {"SWARM_AGENT": AGENT, **env, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert [c.what for c in workspace_files.install_mcp(home, work, "codex", server)] == ["added"]
    codex = launch(CLI, tmp_path / "codex", SCRIPT, work=work)
    lines = ["[[agent]]", f'id = "{AGENT}"', 'role = "dev"', 'delivery = "tmux"',
             'app = "terminal"', f'tmux = "{codex.target}"',
             f'tmux_socket = "{codex.tmux.socket}"', f'cli = "{CLI}"', ""]  # fmt: skip
    config.write_text("\n".join(lines), encoding="utf-8")
    service = await SwarmService.open(Settings.from_env(env))
    text = TextWatcher(service, load_rule_sets(None)[0])
    settings = watch_settings(interval_s=1.0, grace_s=GRACE_S, stall_after_s=600.0)
    watcher = Watcher(service, settings, text=text)
    deliverer = build_deliverer(
        service.settings, list(service.agents.values()), service.kill_switch
    )
    scheduler = Scheduler(service, deliverer)

    async def step() -> None:
        await watcher.tick()
        await scheduler.run_burst()

    try:
        assert service.agents[AGENT].mcp  # Codex's default: no mcp = true in its entry
        _warm_up(codex)
        first = await service.tasks.create(TaskSpec("write the changelog"), "cli")
        await _until(lambda: _done(service, first.id), 120, step)
        assert (await service.tasks.get(first.id)).status is TaskStatus.done
        second = await service.tasks.create(TaskSpec("tidy the readme"), "cli")
        await _until(lambda: _said(codex, "Finished T-2."), 120, step)
        ended = time.monotonic()
        await _until(lambda: _nudged(service), 60, step)
        nudged_after = time.monotonic() - ended
        await _until(lambda: _done(service, second.id), 120, step)
        (nudge,) = [e for e in await kinds(service, "agent.nudged") if e.task_id == second.id]
        assert nudge.data["reason"] == "turn_end"
        assert nudged_after <= GRACE_S, nudged_after
        notes = [e.text for e in await service.history.events(limit=1000) if e.task_id == second.id]
        assert any("readme tidied" in n for n in notes), notes
        print(f"\nturn end to nudge: {nudged_after:.1f} s (grace {GRACE_S:g} s)")
        # its nudge's turn ends silent too: the second silent end needs a person, one item
        third = await service.tasks.create(TaskSpec("sweep the docs"), "cli")
        await _until(lambda: _said(codex, "I already finished T-3."), 180, step)
        await _until(lambda: _unreported(service), 60, step)
        (need,) = [n for n in await service.inbox.needs() if n.kind == "alert"]
        assert (need.agent, need.task) == (AGENT, third.ref), need
        assert f"{AGENT} ended its turn without reporting T-3 (nudged at " in need.text
        assert len([e for e in await kinds(service, "agent.nudged") if e.task_id == third.id]) == 1
    finally:
        await text.close()
        await service.close()
        stop(codex)


def _warm_up(codex) -> None:
    """Until swarm's MCP server answers in Codex (it connects in the background: a turn
    before that finds no swarm tool)."""
    deadline = time.monotonic() + 90
    while True:
        codex.wait(READY)
        seen = len(codex.model.requests())
        codex.send("warm up your tools")
        while not (asked := _asked(codex, seen, "warm up your tools")):
            assert time.monotonic() < deadline, codex.screen()
            time.sleep(0.2)
        if "no tool" not in str(asked[0].get("outcome")):
            codex.wait("tools ready", timeout=60)
            return
        assert time.monotonic() < deadline, asked
        codex.wait("Worked for", timeout=30)
        time.sleep(2)


def _asked(codex, seen: int, prompt: str) -> list:
    return [r for r in codex.model.requests()[seen:] if prompt in str(r.get("prompt"))]


async def _done(service: SwarmService, task_id: int) -> bool:
    return (await service.tasks.get(task_id)).status is TaskStatus.done


async def _said(codex, words: str) -> bool:
    return words in codex.screen()


async def _unreported(service: SwarmService) -> bool:
    return any(n.kind == "alert" for n in await service.inbox.needs())


async def _nudged(service: SwarmService) -> bool:
    return any(e.data.get("reason") == "turn_end" for e in await kinds(service, "agent.nudged"))
