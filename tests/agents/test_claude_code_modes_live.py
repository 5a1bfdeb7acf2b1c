"""The real Claude Code in its two modes that ask least, in tmux against localmodel, read by
swarm's text watcher and delivered to by swarm's tmux deliverer (issue 53, item 5).

- **auto** (``--permission-mode auto``, the CLI's default since 2.1.283): its safety check
  runs on Anthropic's servers, so behind another base URL (here localmodel) its first action
  that needs the check stops at a notice that the check is billed through the gateway (two
  keys: a prompt swarm types the person's choice into); the check then goes to the gateway.
  Started with no mode on its command line (the default launch, as ``swarm desktop up``
  starts it) it is the same here. (On a fresh clone's quick start its first checked action
  stopped at "Auto mode can't check actions in this session" instead: a saved pane, read in
  tests/watch/test_claude_code_panes.py; against localmodel the check answered in words or
  with a 404 gives the notice and "Not run · auto mode's check had no usable answer".)
- **bypass** (``--dangerously-skip-permissions``; as root it needs ``IS_SANDBOX=1``): its first
  start warns (No/Yes with the arrows: the terminal answers), then actions run unasked.

Each CLI is started once for the module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents._alerts import list_alerts
from core.agents._text_rules import load_rule_sets
from core.coordinator.prompt_keys import PromptKeys
from core.dialogs import permissions as prompts
from core.protocols import ManualClock, Parcel
from core.service.swarm import SwarmService
from core.watch.text_signal import TextWatcher
from tests.agents.launch import agent_of, launch, stop
from tests.agents.live import LiveCLI, pane_swarm

pytestmark = pytest.mark.xdist_group("claude-code-live")  # one worker starts it, once

SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "make a file"
steps = [{ text = "Creating it.", shell = "touch made-by-the-model.txt" }, { text = "file made" }]

[[turns]]
match = "run some code"
steps = [{ text = "Running it.", shell = "python3 -c 'open(\\"ran-by-the-model.txt\\", \\"w\\")'" },
         { text = "code ran" }]
"""


@pytest.fixture(scope="module", params=["flag", "no flag"])
def auto(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveCLI]:
    """Claude Code in auto mode, at its input: started with ``--permission-mode auto``, or
    with no mode on its command line (its default, as ``swarm desktop up`` starts it)."""
    flag = request.param == "flag"
    live = launch("claude-code", tmp_path_factory.mktemp("auto").resolve(), SCRIPT,
                  args=["--permission-mode", "auto"] if flag else [], bare=not flag,
                  ready="auto mode on")  # fmt: skip
    try:
        yield live
    finally:
        stop(live)


@pytest.fixture(scope="module")
def bypass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCLI]:
    """Claude Code started in bypass mode, at its first start's warning."""
    live = launch("claude-code", tmp_path_factory.mktemp("bypass").resolve(), SCRIPT,
                  args=["--dangerously-skip-permissions"], env={"IS_SANDBOX": "1"},
                  ready="Enter to confirm")  # fmt: skip
    try:
        yield live
    finally:
        stop(live)


async def swarm_of(home: Path, folder: Path, live: LiveCLI) -> SwarmService:
    """A swarm whose agent A is ``live``'s pane, read with the claude-code rules."""
    service: SwarmService = await pane_swarm(
        home, folder, live, "claude-code", ManualClock(1_800_000_000.0)
    )
    return service


@pytest.fixture
async def rig(home: Path, tmp_path: Path) -> AsyncIterator[tuple[Path, Path]]:
    """Where each test's swarm keeps its home and agents file."""
    yield home, tmp_path


async def look(service: SwarmService, text: TextWatcher) -> tuple[AgentState, str]:
    """One tick of the text watcher over A's pane: its state and evidence."""
    (seen,) = await text.tick()
    return seen.state, seen.evidence


async def until_idle(service: SwarmService, text: TextWatcher, within: float = 15.0) -> None:
    """Until a look reads A idle (its turn's last lines drawn), failing after ``within``."""
    deadline = time.monotonic() + within
    while (seen := await look(service, text))[0] is not AgentState.IDLE:
        assert time.monotonic() < deadline, seen
        await asyncio.sleep(0.2)


async def deliver(service: SwarmService, live: LiveCLI, words: str) -> None:
    """``words`` delivered into A's pane by swarm's tmux deliverer, taken."""
    from automation.tmux.delivery import TmuxDeliverer
    from core.delivery._killswitch import KillSwitch

    home = service.settings.home
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    try:
        receipt = await deliverer.deliver(Parcel(1, agent_of(live, "claude-code"), words, "t"))
    finally:
        deliverer.close()
    assert receipt.ok, receipt


@pytest.mark.timeout(150)
async def test_auto_mode_behind_a_gateway_asks_the_person_before_its_first_checked_action(
    rig: tuple[Path, Path], auto: LiveCLI
) -> None:
    """A task's prompt delivered in auto mode: the first action that needs the server's check
    (code run with python3; a file touched in the work folder runs unasked) stops at the
    notice that the check will be billed through the gateway ("Enter to continue · Esc to
    cancel"), read waiting with its two keys (before: unknown, no prompt, the turn stuck);
    the person's Enter is typed by swarm, the check goes to the gateway (a local model has no
    usable answer: the action is not run), the turn ends and the agent is idle."""
    from automation.tmux.delivery import TmuxDeliverer
    from core.delivery._killswitch import KillSwitch

    service = await swarm_of(*rig, auto)
    text = TextWatcher(service, load_rule_sets(None)[0])
    deliverer = TmuxDeliverer(service.settings.home, KillSwitch(service.settings.home))
    try:
        assert (await look(service, text))[0] is AgentState.IDLE
        await deliver(service, auto, "run some code")
        auto.wait("Enter to continue", timeout=60)
        state, evidence = await look(service, text)
        assert state is AgentState.WAITING and "rule continue-notice" in evidence, evidence
        (prompt,) = await service.store.read(prompts.open_prompts, "A")
        assert [(o.key, o.label) for o in prompt.options] == [
            ("Enter", "continue"), ("Esc", "cancel")
        ]  # fmt: skip
        assert "We're changing auto mode" in prompt.text
        await asyncio.sleep(1.0)  # a key pressed as a dialog appears can be lost
        await service.store.write("Ada", prompts.decide, prompt.id, "Enter")
        assert await PromptKeys(service, deliverer, text).fire() == 1
        auto.wait("code ran", timeout=60)
        assert "Not run · auto mode's check had no usable answer" in auto.screen()
        auto.wait("auto mode on")
        await until_idle(service, text)
    finally:
        await text.close()
        deliverer.close()
        await service.close()


@pytest.mark.timeout(150)
async def test_bypass_mode_warns_at_its_first_start_then_runs_actions_unasked(
    rig: tuple[Path, Path], bypass: LiveCLI
) -> None:
    """The first start's warning is waiting with no keys (the terminal answers it, an alert
    says so; swarm's deliverer types nothing into it); once accepted there, a task's prompt
    delivered by swarm runs its action without a dialog, and the agent ends idle."""
    service = await swarm_of(*rig, bypass)
    text = TextWatcher(service, load_rule_sets(None)[0])
    try:
        state, evidence = await look(service, text)
        assert state is AgentState.WAITING and "rule bypass-warning" in evidence, evidence
        assert await service.store.read(prompts.open_prompts, "A") == []
        assert "terminal-dialog" in [a.kind for a in await service.store.read(list_alerts)]
        await asyncio.sleep(1.0)
        bypass.keys("Down")  # the person, in the terminal: "Yes, I accept"
        await asyncio.sleep(0.3)
        bypass.keys("Enter")
        bypass.wait("bypass permissions on", timeout=30)
        await until_idle(service, text)
        await deliver(service, bypass, "make a file")
        bypass.wait("file made", timeout=60)
        assert "Do you want to proceed?" not in bypass.screen()
        assert (bypass.root / "work" / "made-by-the-model.txt").exists()
        await until_idle(service, text)
    finally:
        await text.close()
        await service.close()
