"""Claude Code's own questions (``AskUserQuestion``) on the tmux route: its
``PermissionRequest`` hook, run by the hooks ``swarm agents hooks install`` wrote (a test
``claude`` on PATH gives them the documented JSON), opens a question item on the task the
agent holds and prints the person's answers as Claude Code's decision: allow, the input given
back with ``answers`` (issue 79)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core import questions
from core.dialogs import permissions as prompts
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.agents.test_agent_hooks import Desk, payload, row

pytestmark = pytest.mark.timeout(90)
ASKED = {
    "questions": [
        {
            "question": "Which database should we use?",
            "header": "Database",
            "multiSelect": False,
            "options": [
                {"label": "Postgres", "description": "the server one"},
                {"label": "SQLite", "description": "one file"},
            ],
        }
    ]
}


@pytest.fixture
def office(tmp_path: Path, settings: Settings) -> Desk:
    """Two agents with swarm's hooks installed, on the test's database."""
    made = Desk(tmp_path)
    assert made.home == settings.home
    assert made.cli("agents", "hooks", "install").code == 0
    return made


@pytest.fixture
async def service(office: Desk, settings: Settings) -> AsyncIterator[SwarmService]:
    env = {"SWARM_HOME": str(office.home), "SWARM_CONFIG": str(office.config)}
    svc = await SwarmService.open(
        Settings.from_env(env | {"SWARM_DATABASE_URL": settings.database_url or ""})
    )
    yield svc
    await svc.close()


async def _holding(service: SwarmService, agent: str) -> int:
    task = await service.tasks.create(TaskSpec("Pick a database", agent=agent), "cli")
    await service.queue.assign_batch()
    return task.id


def _ask(office: Desk, agent: str, **env: str) -> subprocess.Popen[str]:
    body = payload(office.ws[agent], "PermissionRequest", tool_name="AskUserQuestion",
                   tool_input=ASKED, tool_use_id="toolu_q1")  # fmt: skip
    started: subprocess.Popen[str] = office.start_claude(agent, body, office.agent_env(**env))
    return started


async def _question(service: SwarmService, task_id: int) -> questions.Question:
    deadline = time.monotonic() + 30
    while (found := await service.questions.open_question(task_id)) is None:
        assert time.monotonic() < deadline, "the hook opened no question"
        await asyncio.sleep(0.05)
    return found


@pytest.mark.both_databases
async def test_the_hooks_question_is_answered_from_swarm_as_claude_code_takes_it(
    office: Desk, service: SwarmService
) -> None:
    task_id = await _holding(service, "Agent-1")
    agent = _ask(office, "Agent-1")
    try:
        asked = await _question(service, task_id)
        assert asked.request and asked.request.startswith("hook:")
        assert "   2) SQLite - one file" in asked.text
        assert await service.store.read(prompts.open_prompts, "Agent-1") == []  # no Allow/Deny
        assert (await row(service, "Agent-1"))["state"] == "waiting"
        await service.inbox.reply(f"Q-{asked.id}", "2", "discord:ann")
        out, err = await asyncio.to_thread(agent.communicate, timeout=60)
    finally:
        agent.kill()
    assert agent.returncode == 0, err
    assert json.loads(out) == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {
                "behavior": "allow",
                "updatedInput": {**ASKED, "answers": {"Which database should we use?": "SQLite"}},
            },
        }
    }
    shown = await row(service, "Agent-1")
    assert shown["state"] == "working" and "answered through swarm" in shown["evidence"]
    printed = await service.questions.question(asked.id)
    assert printed.sent == "printed by the agent's hook"
    assert await service.store.read(questions.unsent) == []  # the coordinator sends nothing


@pytest.mark.both_databases
async def test_a_hooks_question_nobody_answers_closes_and_leaves_the_dialog(
    office: Desk, service: SwarmService
) -> None:
    task_id = await _holding(service, "Agent-1")
    agent = _ask(office, "Agent-1", SWARM_APPROVAL_WAIT="1")
    out, _ = await asyncio.to_thread(agent.communicate, timeout=60)
    assert out == ""  # no decision: Claude Code's own dialog stays
    assert await service.questions.open_question(task_id) is None
    events = await service.history.events(0, 100)
    assert any("closed unanswered: no answer within 1 s" in e.text for e in events)


@pytest.mark.both_databases
async def test_an_agent_holding_no_task_asks_through_a_prompt(
    office: Desk, service: SwarmService
) -> None:
    agent = _ask(office, "Agent-2", SWARM_APPROVAL_WAIT="5")
    try:
        deadline = time.monotonic() + 30
        while not (found := await service.store.read(prompts.open_prompts, "Agent-2")):
            assert time.monotonic() < deadline, "the hook opened no prompt"
            await asyncio.sleep(0.05)
        assert "Which database should we use?" in found[0].text
    finally:
        agent.kill()
        agent.communicate()
