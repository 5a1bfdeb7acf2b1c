"""An agent's own question (Claude Code's ``AskUserQuestion``) on the dashboard: its item on
the /inbox page with the agent's choices escaped and a Reply, and the reply through the API
refused in one line when it picks no option, else kept as the answer the agent's request
takes (issue 79)."""

from __future__ import annotations

import httpx
import pytest

from core import questions
from core.hosts.answers import answers_option
from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.web.conftest import bearer
from tests.web.test_pages import login

pytestmark = pytest.mark.both_databases
ASKED = {"questions": [{
    "question": "Which <b>database</b> should we use?", "header": "Database",
    "multiSelect": False,
    "options": [{"label": "Postgres", "description": "<script>alert(1)</script>"},
                {"label": "SQLite", "description": "one file"}],
}]}  # fmt: skip


async def test_the_agents_question_is_answered_from_the_dashboard(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    task = await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    asked = await service.store.write(
        "Agent-2", questions.ask_request, "Agent-2", "s#1", ASKED, task.id
    )
    assert asked is not None
    ref = f"Q-{asked.id}"
    await login(client, admin_token)
    page = await client.get("/inbox")
    assert f'data-need-reply="/api/v1/inbox/{ref}/reply"' in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    assert "<b>database</b>" not in page.text and "2) SQLite - one file" in page.text
    admin = bearer(admin_token)
    wrong = await client.post(f"/api/v1/inbox/{ref}/reply", json={"text": "7"}, headers=admin)
    assert wrong.status_code == 400 and "picks no option" in wrong.json()["error"]
    replied = await client.post(f"/api/v1/inbox/{ref}/reply", json={"text": "2"}, headers=admin)
    assert replied.status_code == 200 and replied.json()["answer"] == "2"
    kept = await service.questions.question(asked.id)
    assert kept.reply == answers_option([[1]]) and kept.answered_by == "web:laptop"
