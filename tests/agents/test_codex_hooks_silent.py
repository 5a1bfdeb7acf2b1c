"""Hooks that ``swarm desktop up`` installed but the real Codex CLI never runs (its "Hooks
need review" answered "Continue without trusting", as a person may) are an alert once a
prompt reached Codex and no hook event came (issue 53, item 1); trusted, they speak at that
prompt and no alert opens. Codex 0.169 in tmux against localmodel, swarm's own tmux
deliverer, text and hook signals, real time."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from automation.routes import build_deliverer
from bot.cli.agent_hooks import explain_text
from core.agents._alerts import HOOKS_SILENT, list_alerts
from core.agents._text_rules import load_rule_sets
from core.clis.codex.hooks import install as install_codex
from core.coordinator.jobs import Watcher
from core.coordinator.scheduler import Scheduler
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.launch import launch, stop
from tests.helpers import ROOT
from tests.watch.conftest import watch_settings

pytestmark = pytest.mark.xdist_group("codex-live")
AGENT = "Codex-1"
READY = "? for shortcuts"
PROOF_S = 2.0  # SWARM_HOOKS_SILENT_AFTER here (30 s by default): Codex's hook runs at submit
# (before its model is asked: spoken before its answer shows, when the looks begin)
SCRIPT = 'default = [{ text = "localmodel default answer" }]\n'


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("answer", "silent"), [("3", True), ("2", False)])
async def test_hooks_codex_does_not_run_are_an_alert_after_its_first_prompt(
    tmp_path: Path, answer: str, silent: bool
) -> None:
    home, work = tmp_path / "swarm", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    config = tmp_path / "agents.toml"
    hook = (
        f"env SWARM_HOME={home} SWARM_CONFIG={config} PYTHONPATH={ROOT} "
        f"{sys.executable} -m bot.cli.hook --agent {AGENT}"
    )
    install_codex(home, work, hook)  # what desktop up installs, then hooks = true
    codex = launch("codex", tmp_path / "codex", SCRIPT, work=work, ready="Hooks need review")
    lines = ["[[agent]]", f'id = "{AGENT}"', 'role = "dev"', 'delivery = "tmux"',
             'app = "terminal"', f'tmux = "{codex.target}"', "hooks = true",
             f'tmux_socket = "{codex.tmux.socket}"', 'cli = "codex"', ""]  # fmt: skip
    config.write_text("\n".join(lines), encoding="utf-8")
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    )
    text = TextWatcher(service, load_rule_sets(None)[0])
    watcher = Watcher(service, watch_settings(interval_s=1.0, hooks_silent_s=PROOF_S), text=text)
    deliverer = build_deliverer(
        service.settings, list(service.agents.values()), service.kill_switch
    )
    scheduler = Scheduler(service, deliverer)
    try:
        codex.keys(answer)  # 3: Continue without trusting (hooks won't run); 2: Trust all
        codex.keys("Enter")
        codex.wait(READY)
        await service.messages.send(AGENT, "say something", "discord:ann")
        await scheduler.run_burst()
        codex.wait("localmodel default answer", timeout=60)
        delivered = time.monotonic()
        opened = None
        while time.monotonic() - delivered < PROOF_S + 1:  # past the delivery's PROOF_S, a tick
            report = await watcher.tick()
            if report.opened and opened is None:
                opened = time.monotonic() - delivered
            if opened is not None and silent:
                break  # said: once (the not-silent case waits the whole time for none)
            await asyncio.sleep(0.5)
        alerts = [a for a in await service.store.read(list_alerts) if a.kind == HOOKS_SILENT]
        deadline = time.monotonic() + 30  # trusted: its Stop hook's word, at the turn's end
        while "hook: Stop" not in (shown := explain_text(await service.explain_agent(AGENT))):
            if silent or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        if silent:
            assert len(alerts) == 1 and opened is not None, shown
            assert alerts[0].text.startswith(f"{AGENT}'s hooks have not spoken at all"), alerts
            assert f"{AGENT}'s hooks have not spoken at all" in shown
            print(f"\nsilent hooks: alert {opened:.1f} s after the prompt showed its answer")
        else:
            assert alerts == [] and "hook: Stop" in shown, shown
    finally:
        await text.close()
        await service.close()
        stop(codex)
