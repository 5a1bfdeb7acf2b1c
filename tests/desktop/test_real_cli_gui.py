"""The desktop driver into a real agent CLI: ``swarm desktop up`` opens the pinned Gemini CLI
(against localmodel) in an xterm on the shared Xvfb, and swarm's own ``GuiDriver`` delivers
prompts by click, paste and Enter. What the CLI took is read from localmodel's records.

Gemini CLI 0.61 takes an Enter that comes within 40 ms of a paste for a newline: the input
box changes as it does on a submit, so swarm counted prompts delivered that sat unsent in
the input (3 of 3 before). The driver now waits ``submit_gap_s`` from the paste to the
submit key in a terminal, and confirms on the agent's tmux pane that the CLI took the text.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from automation.desktop.gui import GuiDriver
from automation.desktop.gui_options import GuiOptions
from automation.desktop.virtual_desktop import XServer, display_env
from core.agents._text_rules import classify, load_rule_sets
from core.agents_file import load_agents
from core.delivery._killswitch import KillSwitch
from core.models import Agent
from core.protocols import Parcel
from tests.agents.deliveries import (
    MAIN_PATHS,
    prompt_text,
    requests_with,
    wait_taken_by,
)
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.apps.launchers import wait_until
from tests.conftest import skip_or_fail
from tests.desktop.rig import DesktopRig

pytestmark = pytest.mark.xdist_group("gemini-gui")  # one worker starts it, once

CLI = "gemini"
READY = "Type your message"  # its input's placeholder: the CLI reads keys
SCRIPT = 'default = [{ text = "localmodel default answer" }]\n'


@dataclass
class GuiGemini:
    """The rig with one agent running the real Gemini CLI, and its model server."""

    rig: DesktopRig
    model: LocalModel
    agent: Agent
    window: int  # the xterm ``swarm desktop up`` opened for it


@pytest.fixture(scope="module")
def gemini(shared_xvfb: XServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuiGemini]:
    """``swarm desktop up`` of one agent whose command is the real Gemini CLI, at its input.
    The CLI's start is not what this module tests: one that does not reach its input is
    shown (a warning with its pane, processes and log) and started once more."""
    missing = [p for p in ("xterm", "tmux", "xwininfo") if shutil.which(p) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed (apt-get install xterm tmux x11-utils)")
    binary = require_binary(CLI)
    root = tmp_path_factory.mktemp("gemini-gui").resolve()
    rig = DesktopRig(shared_xvfb, root / "rig", agents=1, with_workspaces=0)
    model = LocalModel(root, SCRIPT)
    try:
        setup = SETUPS[CLI](binary, rig.workdir / "user", rig.workdir, model.url)
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in setup.env.items() if k != "PATH")
        command = " ".join(shlex.quote(arg) for arg in setup.argv)
        # an exit of the CLI stays on its pane, with its status, instead of ending the session
        (rig.workdir / "bin" / "claude").write_text(
            f'#!/bin/sh\nenv {env} {command} "$@"\necho "[rig] the CLI exited: $?"\n'
            "exec sleep 3600\n"
        )
        text = rig.config.read_text(encoding="utf-8")
        rig.config.write_text(text.replace("# keep me", '# keep me\ncli = "gemini"'))
        yield _started(rig, model)
    finally:
        rig.stop()
        model.stop()


def _started(rig: DesktopRig, model: LocalModel, tries: int = 2) -> GuiGemini:
    """``swarm desktop up`` until the CLI shows its input (``tries`` times at most)."""
    seen: list[str] = []
    for _ in range(tries):
        (row,) = rig.up()
        (agent,) = load_agents(rig.config)
        started = GuiGemini(rig, model, agent, int(row["window"]))
        try:
            _at_input(started)
            if seen:
                warnings.warn(f"Gemini CLI at its input on a second start: {seen[0]}", stacklevel=2)
            return started
        except RuntimeError as exc:
            seen.append(f"{exc}; {_what_it_showed(started)}")
            rig.swarm("desktop", "down", timeout=60)
            rig.tmux("kill-server")
    raise AssertionError("\n---\n".join(seen))


def _what_it_showed(gemini: GuiGemini) -> str:
    """The pane, the rig's tmux panes, the terminal's log and the processes, to tell why."""
    rig = gemini.rig
    panes = rig.tmux("list-panes", "-a", "-F", "#{pane_id} #{pane_pid} #{pane_current_command}")
    logs = [f"{p.name}: {p.read_text(errors='replace')[-2000:]}"
            for p in sorted((rig.home / "desktop").glob("*.log"))]  # fmt: skip
    ps = subprocess.run(["ps", "-ewwo", "pid,ppid,stat,etime,args", "--forest"],
                        capture_output=True, text=True, timeout=10).stdout  # fmt: skip
    mine = [line[:200] for line in ps.splitlines() if any(w in line for w in WATCHED)]
    return (f"its pane:\n{pane_text(gemini)}\ntmux panes: {panes.stdout!r} {panes.stderr!r}\n"
            f"model requests: {len(gemini.model.requests())}\nlogs: {logs}\n"
            "processes:\n" + "\n".join(mine))  # fmt: skip


WATCHED = ("swarm-Agent-1", ".cache/agents", "bin/claude", "sleep 3600")


def pane_text(gemini: GuiGemini) -> str:
    """The agent's pane as the rig's tmux server shows it."""
    target = gemini.agent.tmux or ""
    return gemini.rig.tmux("capture-pane", "-p", "-J", "-t", target).stdout


def _at_input(gemini: GuiGemini) -> None:
    wait_until(lambda: READY in pane_text(gemini), 60, "Gemini CLI at its input")


def turn_over(gemini: GuiGemini, quiet_s: float = 0.3, timeout: float = 60.0) -> None:
    """Until swarm reads the pane idle (Gemini's bundled rules) and it has not changed for
    ``quiet_s``: the turn ended and was drawn, as the scheduler waits before the next prompt
    (or at ``timeout``)."""
    rules = {rs.cli: rs for rs in load_rule_sets(None)[0]}[CLI]
    deadline = time.monotonic() + timeout
    last, since = pane_text(gemini), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = pane_text(gemini)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            seen = classify(rules, now.split("\n"), time.time())
            if seen is not None and seen.state.value == "idle":
                return


async def deliver_all(gemini: GuiGemini, options: GuiOptions, count: int) -> dict[str, list[str]]:
    """``count`` prompts through a new GuiDriver, up to 3 tries each: which were recorded
    delivered, which the CLI took, and the failures."""
    home = gemini.rig.workdir / f"driver-{uuid.uuid4().hex[:6]}"
    driver = GuiDriver(home, KillSwitch(home), options, [gemini.agent])
    seen: dict[str, list[str]] = {"delivered": [], "taken": [], "failures": []}
    try:
        for n in range(count):
            marker = f"g{n:02d}-{uuid.uuid4().hex[:6]}"
            for attempt in range(3):
                parcel = Parcel(n + 1, gemini.agent, prompt_text(n, marker), "test",
                                is_retry=attempt > 0)  # fmt: skip
                receipt = await driver.deliver(parcel)
                if receipt.ok:
                    seen["delivered"].append(marker)
                    break
                seen["failures"].append(str(receipt.reason))
            if wait_taken_by(gemini.model, MAIN_PATHS[CLI], marker, 15):
                seen["taken"].append(marker)
            turn_over(gemini)
    finally:
        driver.close()
    return seen


@pytest.mark.timeout(210)  # the CLI's start and 6 turns; a failure asserts well before
async def test_each_prompt_is_taken_once_and_none_counted_that_was_not(
    gemini: GuiGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the driver's defaults every prompt of each shape is taken; with no gap before
    the Enter (the CLI makes it a newline) none is recorded delivered that was not taken
    (the confirmation on the pane; 3 of 3 were before), and the retry submits the text
    left in the input instead of failing "input not empty" or pasting it twice."""
    monkeypatch.setenv("TMUX_TMPDIR", str(gemini.rig.workdir))  # the rig's tmux server
    quick = GuiOptions(human_idle_s=0.05)
    server = gemini.rig.server
    window = gemini.window
    with display_env(server):
        # the session's other windows share the display (a Chromium another test opened
        # may cover the agent's input point): this test's window goes on top
        server.xdotool("windowraise", str(window))
        server.xdotool("mousemove", "960", "1000")
        turn_over(gemini, quiet_s=1.0)
        good = await deliver_all(gemini, quick, 5)
        assert good["delivered"] == good["taken"] and len(good["taken"]) == 5, good
        rushed = await deliver_all(gemini, GuiOptions(human_idle_s=0.05, submit_gap_s=0.0), 1)
    assert not [m for m in rushed["delivered"] if m not in rushed["taken"]], rushed
    # its retry found the text the first try left in the input (Gemini cannot clear a
    # multi-line input): only the submit key was pressed, and the CLI took it once
    assert rushed["taken"] == rushed["delivered"] != [], rushed
    per_turn = len(requests_with(gemini.model, MAIN_PATHS[CLI], good["taken"][-1]))
    assert len(requests_with(gemini.model, MAIN_PATHS[CLI], rushed["taken"][0])) == per_turn
