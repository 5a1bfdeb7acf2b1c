"""The real Claude Code's own questions (its ``AskUserQuestion`` tool) under swarm's host
(stream-json), against localmodel (issue 79): the question is one question item with the
agent's choices, answered by a person as any question is (``swarm inbox``'s reply), and the
tool result the model reads in its next request holds the person's answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.agent_state import AgentState
from core.agents import _transcript as transcript
from core.coordinator.scheduler import Scheduler
from core.errors import InvalidInput
from core.hosts import client
from core.models import TaskSpec
from core.questions import Question
from tests.agents.launch import SETUPS
from tests.agents.live import LocalModel, require_binary
from tests.agents.test_protocol_live import (
    AGENT,
    QUIETING,
    Rig,
    Swarm,
    started,
    swarm,  # noqa: F401  (a fixture, as ``parts``)
    work_folder,
)

pytestmark = pytest.mark.xdist_group("protocol-live")


@pytest.fixture
def parts(request: pytest.FixtureRequest) -> Swarm:
    """swarm's coordinator parts on the rig (``test_protocol_live``'s ``swarm``)."""
    found: Swarm = request.getfixturevalue("swarm")
    return found


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
           { label = "SQLite", description = "one file, <@everyone> included" }]
[[turns.steps]]
text = "thanks for the database answer"

[[turns]]
match = "pick two things"
[[turns.steps]]
text = "Asking two."
tool = "AskUserQuestion"
[[turns.steps.input.questions]]
question = "Which features do you want?"
header = "Features"
multiSelect = true
options = [{ label = "Search", description = "find" }, { label = "Export", description = "csv" },
           { label = "Login", description = "accounts" }]
[[turns.steps.input.questions]]
question = "What should the app be called?"
header = "Name"
multiSelect = false
options = [{ label = "Swarmy", description = "cute" }, { label = "Hive", description = "short" }]
[[turns.steps]]
text = "thanks for both answers"
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """Claude Code started by ``swarm desktop up --protocol`` as a user starts it."""
    binary = require_binary("claude-code")
    root = tmp_path_factory.mktemp("questions-claude").resolve()
    work = work_folder(root)
    model = LocalModel(root, SCRIPT)
    setup = SETUPS["claude-code"](binary, root / "home", work, model.url)
    env = {k: v for k, v in setup.env.items() if k not in QUIETING}
    with started("claude-code", root, model, " ".join(setup.argv), env) as made:
        yield made


async def _asked(parts: Swarm, task_id: int) -> Question:
    async def opened() -> Question | None:
        return await parts.service.questions.open_question(task_id)

    found: Question = await parts.until(opened, within=120)
    return found


def _tool_results(model: LocalModel) -> str:
    """The tool results the model was sent, in all its requests so far."""
    return "\n".join(_results(request.get("body") or {}) for request in model.requests())


def _results(body: dict[str, Any]) -> str:
    said = []
    for message in body.get("messages") or []:
        for block in (message.get("content") or []) if isinstance(message, dict) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                said.append(json.dumps(block.get("content"), ensure_ascii=False))
    return "\n".join(said)


async def _ask(rig: Rig, parts: Swarm, words: str) -> tuple[int, Question]:
    task = await parts.service.tasks.create(TaskSpec(words, words, agent=AGENT), "me")
    done = await Scheduler(parts.service, parts.deliverer).run_burst()
    assert done.delivered == 1
    return task.id, await _asked(parts, task.id)


async def _answered(rig: Rig, parts: Swarm, words: str) -> str:
    """The tool results the model was sent once one holds ``words`` and the turn ended."""

    async def said() -> bool:
        state = await parts.state()
        return state.state is AgentState.IDLE and words in _tool_results(rig.model)

    await parts.until(said, within=120)
    return _tool_results(rig.model)


@pytest.mark.timeout(300)
async def test_the_agents_question_is_a_question_item_and_its_answer_reaches_the_model(
    rig: Rig, parts: Swarm
) -> None:
    task_id, asked = await _ask(rig, parts, "pick a database")
    assert asked.agent == AGENT and asked.request
    assert "Which database should we use?" in asked.text
    assert "1) Postgres - the server one" in asked.text
    assert [c.label for q in asked.asked() for c in q.options] == ["Postgres", "SQLite"]
    assert await parts.open_prompts() == []  # a question, not an Allow/Deny item
    (item,) = [n for n in await parts.service.inbox.needs() if n.ref == f"Q-{asked.id}"]
    assert item.kind == "question" and item.actions == ("reply",)
    with pytest.raises(InvalidInput):  # no third option
        await parts.service.inbox.reply(f"Q-{asked.id}", "3", "person")
    await parts.service.inbox.reply(f"Q-{asked.id}", "2", "person")
    result = await _answered(rig, parts, "SQLite")
    assert "Which database should we use?" in result and "SQLite" in result, result
    assert "did not answer" not in result, result
    answered = await parts.service.questions.question(asked.id)
    assert answered.sent == "sent as the request's answer"
    rows = await parts.service.store.read(transcript.newest, AGENT)
    said = [transcript.status_line(row) for row in rows]
    assert any("answered with the person's answers" in line for line in said), said
    await parts.service.tasks.complete(f"T-{task_id}", AGENT)


@pytest.mark.timeout(300)
async def test_several_questions_take_a_line_each_choices_or_own_words(
    rig: Rig, parts: Swarm
) -> None:
    task_id, asked = await _ask(rig, parts, "pick two things")
    assert len(asked.asked()) == 2 and "(choose one or more: 1,3)" in asked.text
    with pytest.raises(InvalidInput, match="one line each"):
        await parts.service.inbox.reply(f"Q-{asked.id}", "1,3", "person")
    await parts.service.inbox.reply(f"Q-{asked.id}", "1, 3\nCall it Beehive", "person")
    result = await _answered(rig, parts, "Call it Beehive")
    assert "Search, Login" in result, result
    assert "Call it Beehive" in result, result
    await parts.service.tasks.complete(f"T-{task_id}", AGENT)


@pytest.mark.timeout(300)
async def test_a_cancelled_turn_closes_its_question_unanswered(rig: Rig, parts: Swarm) -> None:
    task_id, asked = await _ask(rig, parts, "pick a database")
    cancelled = await client.cancel(rig.home, AGENT)
    assert isinstance(cancelled, client.Cancelled), cancelled

    async def closed() -> bool:
        return (await parts.service.questions.question(asked.id)).answered_by == "swarm"

    await parts.until(closed, within=60)
    assert await parts.service.questions.open_question(task_id) is None
    await parts.service.tasks.complete(f"T-{task_id}", AGENT)
