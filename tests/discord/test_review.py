"""``/task review``: one comment sent to the agent that did a task (issue 27), admins only,
mentions disabled; the comment reaches the agent quoted, its control characters escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import TaskStatus
from tests.discord.conftest import World, slash
from tests.web.review_work import GIT_ENV, deliver, inbox_texts, worked_task

pytestmark = pytest.mark.timeout(60)
NONE: dict[str, list[str]] = {"parse": []}


async def test_task_review_sends_one_comment_and_reopens_the_task(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    ref, _ = await worked_task(world.service, tmp_path, "Agent-4")
    pending = await world.service.reviews.add(ref, "web:laptop", "a draft on the dashboard")
    before = len(inbox_texts(world.service, "Agent-4"))
    hostile = "@everyone \x1b[2J look at this\n```\nrm -rf /\n```"

    refused = await slash(world, world.user, "task review", {"id": ref, "text": "not an admin"})
    assert "admins only" in refused.data["content"]
    bad = await slash(
        world, world.admin, "task review", {"id": ref, "text": "x", "file": "feature.py"}
    )
    assert bad.data["flags"] & 64 and "needs both the file and the line" in bad.data["content"]

    sent = await slash(
        world,
        world.admin,
        "task review",
        {"id": ref, "text": hostile, "file": "feature.py", "line": 3},
    )
    assert sent.data["content"].startswith(f"📝 review sent to Agent-4 (reopened): {ref}")
    assert sent.data["allowed_mentions"] == NONE and "@everyone" not in sent.data["content"]
    task = await world.service.tasks.get(ref)
    assert (task.status, task.agent) == (TaskStatus.in_progress, "Agent-4")
    (review,) = [e for e in await world.service.history.events(task=ref) if e.kind == "task.review"]
    assert review.data is not None and (review.data["count"], review.data["by"]) == (
        1,
        "discord:boss",
    )
    assert [c.id for c in await world.service.reviews.comments(ref)] == [pending.id]

    await deliver(world.service)
    texts = inbox_texts(world.service, "Agent-4")
    assert len(texts) == before + 1
    assert (
        "1. feature.py:3\n   line 3:\n   | C = 3\n   comment:\n"
        "   > @everyone \\x1b[2J look at this\n   > ```\n   > rm -rf /\n   > ```"
    ) in texts[-1]
    assert "\x1b" not in texts[-1] and "a draft" not in texts[-1]
