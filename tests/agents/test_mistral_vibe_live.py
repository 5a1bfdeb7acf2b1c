"""The real Mistral Vibe (pinned in tools/install_agents.py) over the protocol route: started
ONCE for the module by ``swarm desktop up --protocol`` as a user starts it (``vibe`` from the
agents file's ``[desktop]`` section, made ``vibe-acp`` beside it by its CLI's folder; its own
HOME whose ``~/.vibe/config.toml`` names an OpenAI-compatible provider; its default mode)
under swarm's host, against localmodel's Chat Completions; swarm's own deliverer, scheduler,
protocol watch and prompt answering on a real store.

The seventh CLI, added to show that adding one is its folder (``core/clis/mistral_vibe/``),
its line in ``CLIS`` and its pin. Skipped with the reason when the binary is missing or
another version (a failure under ``SWARM_REQUIRE_AGENTS=1``; ``SWARM_VIBE_BIN`` names
another binary: tests/agents/live.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.agent_state import AgentState
from core.coordinator.scheduler import Scheduler
from core.dialogs import permissions as prompts
from core.hosts import journal_file, running, wire
from core.hosts.entries import TurnEnd
from tests.agents.launch import vibe_home
from tests.agents.live import LocalModel, offers_tools, require_binary
from tests.agents.test_protocol_live import (
    AGENT,
    Rig,
    Swarm,
    _asked,
    _ledger,
    _transcript,
    _turn_of,
    started,
    work_folder,
)
from tests.agents.test_protocol_live import swarm as swarm  # the same coordinator parts

pytestmark = pytest.mark.xdist_group("mistral-vibe-live")  # one worker starts it, once

CLI = "mistral-vibe"
IN, OUT = 4321, 87  # the usage localmodel reports for "count my tokens"
SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "say hello"
text = "hello from localmodel"

[[turns]]
match = "make the allowed file"
steps = [{ text = "Creating it.", shell = "touch allowed.txt" }, { text = "allowed file made" }]

[[turns]]
match = "make the refused file"
steps = [{ text = "Creating it.", shell = "touch refused.txt" }, { text = "done asking" }]

[[turns]]
match = "count my tokens"
steps = [{ text = "counted", input_tokens = 4321, output_tokens = 87 }]
"""
OPTIONS = ["Allow once", "Allow for remainder of this session", "Always allow", "Deny"]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Mistral Vibe started by ``swarm desktop up --protocol`` (its host outlives the
    command)."""
    binary = require_binary(CLI)
    root = tmp_path_factory.mktemp("protocol-vibe").resolve()
    work_folder(root)
    model = LocalModel(root, SCRIPT)
    with started(CLI, root, model, str(binary), vibe_home(root / "home", model.url)) as made:
        yield made


@pytest.mark.timeout(300)
async def test_a_task_prompt_over_acp_is_taken_and_its_turn_ends(rig: Rig, swarm: Swarm) -> None:
    """The prompt reaches the model through ``vibe-acp``, and its turn's end, as the agent
    says it (with its usage), makes it idle."""
    task, turn = await swarm.said_hello(rig.model)
    assert turn["usage"]["inputTokens"] > 0 and turn["usage"]["outputTokens"] > 0, turn
    await swarm.service.tasks.complete(task.ref, AGENT)


@pytest.mark.timeout(240)
async def test_at_its_default_mode_a_shell_command_asks_with_its_own_options(
    rig: Rig, swarm: Swarm
) -> None:
    """Its default mode (accept edits) asks before a shell command: one item with its four
    options in its words; allowed once, the command runs and the turn ends."""
    await swarm.service.messages.send(AGENT, "make the allowed file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    assert "touch allowed.txt" in asked.text, asked.text
    assert (await swarm.state()).state is AgentState.WAITING
    assert [o.label for o in asked.options] == OPTIONS
    await swarm.service.inbox.decide_prompt(asked.id, asked.options[0].key, "person")

    async def made() -> bool:
        return (rig.work / "allowed.txt").exists() and (
            await swarm.state()
        ).state is AgentState.IDLE

    await swarm.until(made)
    assert await swarm.service.store.read(prompts.open_prompts, AGENT) == []
    said = await _transcript(swarm)  # the request, who answered it how, then the call's outcome
    (asks,) = [
        n for n, line in enumerate(said) if line.endswith("(allowed (Allow once) by person)")
    ]
    call = [n for n, line in enumerate(said) if line.startswith("tool call ") and "(" in line]
    assert call and asks < min(call), said


@pytest.mark.timeout(240)
async def test_a_denied_shell_command_does_not_run(rig: Rig, swarm: Swarm) -> None:
    await swarm.service.messages.send(AGENT, "make the refused file", "me")
    await Scheduler(swarm.service, swarm.deliverer).run_burst()
    asked = await _asked(swarm)
    assert asked.options[-1].label == "Deny"
    await swarm.service.inbox.decide_prompt(asked.id, asked.options[-1].key, "person")

    async def ended() -> bool:
        idle = (await swarm.state()).state is AgentState.IDLE
        return idle and not await swarm.service.store.read(prompts.open_prompts, AGENT)

    await swarm.until(ended)
    assert not (rig.work / "refused.txt").exists()
    said = await _transcript(swarm)
    assert any(line.endswith("(denied (Deny) by person)") for line in said), said


@pytest.mark.timeout(300)
async def test_two_turns_each_book_the_scripted_tokens_in_the_ledger(
    rig: Rig, swarm: Swarm
) -> None:
    """Its ACP turn end's usage is its session's running total (it grows by localmodel's
    scripted usage each turn); its host journals what each turn added (its CLI's
    ``cumulative_usage``, given by ``desktop up --protocol``), so each of two turns books
    exactly the scripted tokens, of the model its session names (its ``active_model``
    alias, which the price table does not list: its cost unknown, never invented)."""
    booked = []
    for text in ("count my tokens once", "count my tokens again"):
        task, turn = await _turn_of(swarm, text)
        assert (turn["usage"]["inputTokens"], turn["usage"]["outputTokens"]) == (IN, OUT), turn

        async def found(task: int = task) -> list[dict[str, Any]]:
            return await swarm.service.store.read(_ledger, task)

        (row,) = await swarm.until(found)
        booked.append(row)
    for row in booked:
        assert (row["agent"], row["cli"], row["source"]) == (AGENT, CLI, "protocol"), row
        assert (row["input_tokens"], row["output_tokens"]) == (IN, OUT), row
        assert (row["model"], row["cost_usd"]) == ("local", None), row
    ends = [e.body for e in journal_file.entries(wire.journal_path(rig.home, AGENT))
            if isinstance(e.body, TurnEnd)][-2:]  # fmt: skip
    first, second = ((e.session_usage or {}).get("inputTokens") or 0 for e in ends)
    assert second - first == IN, ends  # what it said: its session's total
    # its other request of the turn (a title, no tools offered) is not the conversation's
    others = [
        r
        for r in rig.model.requests()
        if "count my tokens" in str(r.get("prompt")) and not offers_tools(r)
    ]
    assert all("user: " in str(r["prompt"]) for r in others), others


def test_its_host_runs_vibe_acp_from_beside_the_users_vibe(rig: Rig) -> None:
    """``swarm desktop up --protocol`` ran ``vibe-acp`` from the folder of the agents file's
    ``vibe`` (its folder's ``protocol_adapter``), under swarm's host."""
    pid = running.host_pid(rig.home, AGENT)
    assert pid is not None
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
    assert argv[1:4] == ["-I", "-m", "bot.protocol_host"], argv  # isolated: issue 77
    program = argv[argv.index("--") + 1 :]
    assert program == [str(Path(require_binary(CLI)).parent / "vibe-acp")], argv
