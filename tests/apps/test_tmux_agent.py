"""An agent-like terminal program (prompt_toolkit, tests/apps/agent_term.py) in a real xterm
on Xvfb, inside a real tmux session: each of its states is classified from the pane's text,
and deciding its permission prompt through the service types the chosen key into the xterm
through the desktop driver (the program records the key it received)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from automation.desktop.gui import GuiDriver, GuiOptions
from automation.desktop.virtual_desktop import display_env
from core.agent_state import AgentState
from core.agents._text_rules import load_rule_sets
from core.coordinator.prompt_keys import PromptKeys
from core.delivery._killswitch import KillSwitch
from core.dialogs import answer_keys as prompt_typing
from core.dialogs import permissions as prompts
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.apps import launchers
from tests.apps.tmux_xterm import TARGET, tmux_xterm
from tests.tmux_server import Tmux, wait_text

NAME = "Agent-8"


@dataclass
class TmuxAgent:
    """The program's xterm, its tmux pane and the file it records keys in."""

    tmux: Tmux
    outfile: Path
    agents_file: Path

    def command(self, text: str) -> None:
        """Type a command into the program (through tmux, as the agent's own work would)."""
        self.tmux.run("send-keys", "-t", TARGET, text, "Enter")

    def records(self) -> list[dict[str, str]]:
        """What the program recorded."""
        lines = self.outfile.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def tmux_agent(shared_xvfb: Any, tmux: Tmux, tmp_path: Path) -> Iterator[TmuxAgent]:
    """``agent_term`` in tmux in an xterm on the session's Xvfb; its agents file."""
    if launchers.missing_programs():
        pytest.skip(f"missing: {', '.join(launchers.missing_programs())}")
    outfile, ready = tmp_path / "agent.jsonl", tmp_path / "agent.ready"
    outfile.touch()
    program = f"{sys.executable} -m tests.apps.agent_term {outfile} --ready {ready}"
    with tmux_xterm(shared_xvfb, tmux, tmp_path, NAME, program, ready.exists) as agents:
        yield TmuxAgent(tmux, outfile, agents)


@pytest.fixture
async def agent_service(
    tmux_agent: TmuxAgent, home: Path, clock: ManualClock
) -> AsyncIterator[SwarmService]:
    """The service over the program's agents file."""
    config = str(tmux_agent.agents_file)
    service = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": config}), clock
    )
    yield service
    await service.close()


@pytest.fixture
def driver(shared_xvfb: Any, home: Path) -> Iterator[GuiDriver]:
    """The desktop driver on the session's Xvfb (fast human check)."""
    with display_env(shared_xvfb):
        shared_xvfb.xdotool("mousemove", "960", "540")
        gui = GuiDriver(home, KillSwitch(home), GuiOptions(human_idle_s=0.05, human_wait_s=5.0))
        try:
            yield gui
        finally:
            gui.close()


async def state_after(
    text: TextWatcher, agent: TmuxAgent, shown: str, then_prompt: bool = False
) -> Any:
    """The TEXT observation once ``shown`` is in the pane (and, with ``then_prompt``,
    the program's "> " prompt below it: it is drawn a moment after the line)."""
    ref = agent.tmux.ref(TARGET)
    wait_text(ref, shown)
    if then_prompt:
        launchers.wait_until(lambda: _prompt_below(ref, shown), 10, f"no prompt after {shown!r}")
    (observed,) = await text.tick()
    return observed


def _prompt_below(ref: Any, shown: str) -> bool:
    """Whether a "> " prompt line is drawn below the line holding ``shown``."""
    lines = wait_text(ref, shown)
    at = max(i for i, line in enumerate(lines) if shown in line)
    return any(line.startswith(">") for line in lines[at + 1 :])


@pytest.mark.timeout(180)
async def test_the_programs_states_are_read_and_a_decision_is_typed_into_it(
    tmux_agent: TmuxAgent, agent_service: SwarmService, driver: GuiDriver
) -> None:
    rule_sets, _ = load_rule_sets(agent_service.settings.home)
    text = TextWatcher(agent_service, rule_sets)
    observed = await state_after(text, tmux_agent, "agent-term")
    assert observed.state is AgentState.IDLE  # its "> " prompt

    tmux_agent.command("spin 120")
    observed = await state_after(text, tmux_agent, "esc to interrupt")
    assert observed.state is AgentState.WORKING and "esc to interrupt" in observed.evidence
    tmux_agent.tmux.run("send-keys", "-t", TARGET, "Escape")
    wait_text(tmux_agent.tmux.ref(TARGET), "done")

    tmux_agent.command("limit")
    observed = await state_after(text, tmux_agent, "Your limit will reset")
    assert observed.state is AgentState.LIMITED and observed.until is not None

    tmux_agent.command("clear")
    tmux_agent.command("error")
    observed = await state_after(text, tmux_agent, "API Error: 529")
    assert observed.state is AgentState.ERRORED

    tmux_agent.command("clear")
    tmux_agent.command("ask")
    observed = await state_after(text, tmux_agent, "3. No, and tell Claude")
    assert observed.state is AgentState.WAITING
    (prompt,) = await agent_service.store.read(prompts.open_prompts, NAME)
    assert [o.key for o in prompt.options] == ["1", "2", "3"]

    # decided through the service while input is paused: nothing is typed until it resumes
    keys = PromptKeys(agent_service, driver, text, retry_s=0.0)
    await agent_service.store.write("Ada", prompts.decide, prompt.id, "2")
    await agent_service.pause_input("Ada", "lunch")
    assert await keys.fire() == 0
    assert {"key": "2"} not in tmux_agent.records()
    await agent_service.resume_input("Ada")
    assert await keys.fire() == 1
    launchers.wait_until(  # the program records the key once its dialog went
        lambda: tmux_agent.records()[-1] == {"key": "2"}, 10, "the chosen key was not received"
    )
    typed_at, typed, result = await agent_service.store.read(prompt_typing.typed_state, prompt.id)
    assert typed_at is not None and (typed, result) == ("2", "the prompt left the pane")
    assert await keys.fire() == 0  # once
    observed = await state_after(text, tmux_agent, "chose 2", then_prompt=True)
    assert observed.state is AgentState.IDLE
    await text.close()
