"""The real Claude Code's own questions (``AskUserQuestion``) in tmux, against localmodel,
through the hooks ``swarm agents hooks install`` wrote (issue 79): its ``PermissionRequest``
hook opens a question item on the task the agent holds (its own dialog in the pane opens no
second item), a person answers it as any question, and the tool result the model reads next
holds the answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.agents._text_rules import load_rule_sets
from core.dialogs import pane_prompts
from core.dialogs import permissions as prompts
from core.models import TaskSpec
from core.questions import Question
from core.service.swarm import SwarmService
from core.settings import Settings
from core.watch.text_signal import TextWatcher
from tests.agents.launch import _git, launch, stop
from tests.agents.live import LiveCLI
from tests.helpers import run_cli, write_agents

pytestmark = pytest.mark.xdist_group("claude-code-live")

SCRIPT = """
default = [{ text = "localmodel default answer" }]

[[turns]]
match = "pick a database"
[[turns.steps]]
text = "Asking first."
tool = "AskUserQuestion"
[[turns.steps.input.questions]]
question = "Which database should we use?"
header = "Database"
multiSelect = false
options = [{ label = "Postgres", description = "the server one" },
           { label = "SQLite", description = "one file" }]
[[turns.steps]]
text = "thanks for the database answer"
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCLI, Path, Path]]:
    """Claude Code in tmux, its workspace holding swarm's hooks: the CLI, the swarm home and
    the agents file (agent A: that workspace)."""
    root = tmp_path_factory.mktemp("hook-questions").resolve()
    work, home = root / "work", root / "swarm"
    work.mkdir()
    home.mkdir()
    _git(work)
    config = write_agents(root / "agents.toml", [
        {"id": "A", "role": "dev", "delivery": "inbox", "workspace": str(work),
         "cli": "claude-code"},
    ])  # fmt: skip
    installed = run_cli(home, "agents", "hooks", "install", config=config)
    assert installed.code == 0, installed.out + installed.err
    live = launch("claude-code", root, SCRIPT, work=work)
    try:
        write_agents(config, [  # its pane now known: read by swarm's text watcher too
            {"id": "A", "role": "dev", "delivery": "tmux", "workspace": str(work),
             "cli": "claude-code", "tmux": live.target, "tmux_socket": str(live.tmux.socket)},
        ])  # fmt: skip
        yield live, home, config
    finally:
        stop(live)


@pytest.fixture
async def service(desk: tuple[LiveCLI, Path, Path]) -> AsyncIterator[SwarmService]:
    _, home, config = desk
    svc = await SwarmService.open(
        Settings.from_env({"SWARM_HOME": str(home), "SWARM_CONFIG": str(config)})
    )
    yield svc
    await svc.close()


def _tool_results(live: LiveCLI) -> str:
    said = []
    for request in live.model.requests():
        for message in (request.get("body") or {}).get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    said.append(json.dumps(block.get("content"), ensure_ascii=False))
    return "\n".join(said)


async def _question(service: SwarmService, task_id: int) -> Question:
    deadline = time.monotonic() + 90
    while (found := await service.questions.open_question(task_id)) is None:
        assert time.monotonic() < deadline, "the hook opened no question"
        await asyncio.sleep(0.2)
    return found


@pytest.mark.timeout(240)
async def test_the_hooks_question_is_answered_and_the_model_reads_the_answer(
    desk: tuple[LiveCLI, Path, Path], service: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, _, _ = desk
    monkeypatch.setattr(pane_prompts, "HOOK_ASKS_S", 2.0)  # the hook's grace, 10 s, made short
    task = await service.tasks.create(TaskSpec("Pick a database", agent="A"), "cli")
    await service.queue.assign_batch()
    await asyncio.sleep(1.0)  # a prompt pasted as the input box appears can be lost
    live.send("pick a database")
    asked = await _question(service, task.id)
    assert asked.request and asked.request.startswith("hook:")
    await asyncio.to_thread(live.wait, "Which database should we use?")  # its own dialog
    rule_sets, _ = load_rule_sets(None)
    text = TextWatcher(service, rule_sets)
    try:  # the pane's dialog opens no second item, also after the hook's grace
        for pause in (0.0, pane_prompts.HOOK_ASKS_S + 1):
            await asyncio.sleep(pause)
            await text.tick()
            assert await service.store.read(prompts.open_prompts, "A") == []
    finally:
        await text.close()
    await service.inbox.reply(f"Q-{asked.id}", "2", "person")
    deadline = time.monotonic() + 90
    while "SQLite" not in (said := _tool_results(live)):
        assert time.monotonic() < deadline, f"no answer reached the model: {said!r}"
        await asyncio.sleep(0.5)
    assert "Which database should we use?" in said and "did not answer" not in said, said
    await asyncio.to_thread(live.wait, "thanks for the database answer")
    printed = await service.questions.question(asked.id)
    assert printed.sent == "printed by the agent's hook"
