"""``swarm task review``: one review comment from the terminal to the agent that did a task
(issue 27); its errors are one line and write nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.models import TaskStatus
from core.service.swarm import SwarmService
from tests.helpers import run_cli
from tests.web.review_work import GIT_ENV, deliver, inbox_texts, worked_task

pytestmark = pytest.mark.both_databases


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


async def test_cli_review_sends_one_comment_on_a_line(
    service: SwarmService, tmp_path: Path
) -> None:
    home = service.settings.home
    ref, _ = await worked_task(service, tmp_path, "Agent-1")
    bad = await asyncio.to_thread(
        run_cli, home, "task", "review", ref, "rename it", "--file", "feature.py"
    )
    assert (bad.code, bad.out) == (2, "")
    assert bad.err == (
        "swarm: error: a comment on a line needs both the file and the line number\n"
    )
    said = await asyncio.to_thread(
        run_cli,
        home,
        "task",
        "review",
        ref,
        "rename B",
        "--file",
        "feature.py",
        "--line",
        "2",
        "--json",
    )
    assert said.code == 0, said.err
    assert json.loads(said.out) | {"message": 0} == {
        "task": ref,
        "agent": "Agent-1",
        "comments": 1,
        "message": 0,
        "reopened": True,
    }
    assert (await service.tasks.get(ref)).status is TaskStatus.in_progress
    (review,) = [e for e in await service.history.events(task=ref) if e.kind == "task.review"]
    assert review.data is not None and review.data["count"] == 1
    await deliver(service)
    assert (
        "1. feature.py:2\n   line 2:\n   | B = 2\n   comment:\n   > rename B"
        in (inbox_texts(service, "Agent-1")[-1])
    )
