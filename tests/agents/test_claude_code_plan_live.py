"""The real Claude Code in plan mode (``--permission-mode plan``) in tmux against localmodel:
its "Ready to code?" dialog read by swarm's text watcher and answered by swarm's keys.

Claude Code is started ONCE for the module. Its plan file's name is chosen per session (the
system prompt says "create your plan at ~/.claude/plans/<words>.md"), so the model's script
is set once the first request names it: the model writes the plan there with ``Write``, then
calls ``ExitPlanMode``; the CLI shows the plan under "Ready to code?".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.agent_state import AgentState
from core.agents._text_rules import load_rule_sets
from core.coordinator.prompt_keys import PromptKeys
from core.dialogs import answer_keys
from core.dialogs import permissions as prompts
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.watch.text_signal import TextWatcher
from tests.agents.launch import launch, stop
from tests.agents.live import LiveCLI, pane_swarm

pytestmark = pytest.mark.xdist_group("claude-code-live")  # one worker starts it, once

DEFAULT = [{"text": "localmodel default answer"}]
PLAN = "# Context\nA small change.\n\n## Steps\n1. Create planned.txt with one line.\n"


@pytest.fixture(scope="module")
def claude(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCLI, str]]:
    """Claude Code in plan mode at its input, and the path of its session's plan file."""
    script = 'default = [{ text = "localmodel default answer" }]\n'
    live = launch("claude-code", tmp_path_factory.mktemp("plan").resolve(), script,
                  args=["--permission-mode", "plan"], ready="plan mode on")  # fmt: skip
    try:
        time.sleep(1.0)  # a prompt pasted as the input box appears can be lost
        live.send("look around first")
        live.wait("localmodel default answer")
        named = re.search(r"create your plan at (\S+?\.md)", json.dumps(live.model.requests()))
        assert named is not None, "the system prompt named no plan file"
        yield live, named.group(1)
    finally:
        stop(live)


@pytest.fixture
async def service(
    home: Path, tmp_path: Path, clock: ManualClock, claude: tuple[LiveCLI, str]
) -> AsyncIterator[SwarmService]:
    """Agent A: the live Claude Code's pane, read with the claude-code rules."""
    live, _ = claude
    svc = await pane_swarm(home, tmp_path, live, "claude-code", clock)
    yield svc
    await svc.close()


def ask_to_plan(live: LiveCLI, plan_file: str, words: str) -> None:
    """In plan mode (shift+tab to it after an approval left it), send ``words``: the model
    writes the plan to ``plan_file`` and asks to leave plan mode; return once the dialog
    shows."""
    live.model.admin.set_script({"default": DEFAULT, "turns": [{"match": words, "steps": [
        {"text": "Writing the plan.", "tool": "Write",
         "input": {"file_path": plan_file, "content": PLAN}},
        {"text": "The plan is ready.", "tool": "ExitPlanMode", "input": {}},
        {"text": f"Finished {words}."},
    ]}]})  # fmt: skip
    for _ in range(4):  # shift+tab cycles the modes: default, accept edits, plan, ...
        if "plan mode on" in live.screen():
            break
        live.keys("BTab")
        time.sleep(0.5)
    live.send(words)
    live.wait("Would you like to proceed?")
    time.sleep(1.0)  # a key pressed as a dialog appears can be lost


async def answer(service: SwarmService, live: LiveCLI, key: str) -> prompts.Prompt:
    """Read A's pane (the plan's dialog), decide its prompt ``key`` and let swarm type it."""
    from automation.tmux.delivery import TmuxDeliverer
    from core.delivery._killswitch import KillSwitch

    home = service.settings.home
    deliverer = TmuxDeliverer(home, KillSwitch(home))
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:
        (seen,) = await text.tick()
        assert seen.state is AgentState.WAITING and "rule plan-ready" in seen.evidence
        (prompt,) = await service.store.read(prompts.open_prompts, "A")
        await service.store.write("Ada", prompts.decide, prompt.id, key)
        assert await PromptKeys(service, deliverer, text).fire() == 1
        return prompt
    finally:
        await text.close()
        deliverer.close()


@pytest.mark.timeout(120)
async def test_manually_approve_edits_leaves_plan_mode_and_the_turn_goes_on(
    service: SwarmService, claude: tuple[LiveCLI, str]
) -> None:
    """ "2. Yes, manually approve edits" typed by swarm: the CLI leaves plan mode and the
    model's turn goes on to its end."""
    live, plan_file = claude
    ask_to_plan(live, plan_file, "plan the file")
    await answer(service, live, "2")
    live.wait("Finished plan the file.")
    assert "plan mode on" not in live.screen()


@pytest.mark.timeout(120)
async def test_the_plan_is_shown_to_the_person_and_tell_claude_rejects_it(
    service: SwarmService, claude: tuple[LiveCLI, str]
) -> None:
    """The person sees the plan they approve (before: only the question and its options),
    and "3. Tell Claude what to change", chosen from swarm, is 3 then Enter: the plan
    rejected without words, the turn over (before: 3 alone left its field open, the dialog
    still there)."""
    live, plan_file = claude
    ask_to_plan(live, plan_file, "plan it again")
    prompt = await answer(service, live, "3")
    shown = [line.strip() for line in prompt.text.splitlines()]
    assert shown[:2] == ["Ready to code?", "Here is Claude's plan:"], shown
    assert "1. Create planned.txt with one line." in shown
    assert [(o.key, o.label) for o in prompt.options] == [
        ("1", "Yes, and use auto mode"), ("2", "Yes, manually approve edits"),
        ("3", "Tell Claude what to change"),
    ]  # fmt: skip
    live.wait("Rejected Claude's plan")
    assert "Would you like to proceed?" not in live.screen()
    _, keys = await service.store.read(answer_keys.typing_state, prompt.id)
    assert keys == "3+enter"
