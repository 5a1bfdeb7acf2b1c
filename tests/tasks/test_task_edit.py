"""``swarm task edit``: title, details, priority, role of an unfinished task, checked as at
creation, recorded in a ``task.edited`` event; refused on finished tasks (issue 28, item 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.models import TaskSpec
from core.service.swarm import SwarmService
from tests.helpers import run_cli

pytestmark = pytest.mark.both_databases


async def test_edit_changes_what_is_asked_and_records_it(home: Path, service: SwarmService) -> None:
    await service.tasks.create(TaskSpec("Fix login", role="qa"), "cli")
    edited = run_cli(
        home,
        "task",
        "edit",
        "T-1",
        "--priority",
        "high",
        "--details",
        "Both forms.\nSee #4",
        "--role",
        "web",
        "--title",
        "Fix the login form",
        agent="boss",
    )
    assert (edited.code, edited.err) == (0, "")
    assert edited.out == "T-1 edited: title, details, priority, role\n"
    task = await service.tasks.get("T-1")
    assert (task.title, task.details, task.priority.name, task.role) == (
        "Fix the login form",
        "Both forms.\nSee #4",
        "high",
        "web",
    )
    event = [e for e in await service.history.events(task="T-1") if e.kind == "task.edited"][-1]
    assert event.actor == "boss"
    assert event.text == (
        "T-1 edited by boss: title 'Fix login' → 'Fix the login form'; details changed "
        "(0 → 18 characters); priority normal → high; role qa → web"
    )
    as_json = json.loads(run_cli(home, "task", "edit", "T-1", "--role", "", "--json").out)
    assert as_json["role"] is None


async def test_edit_refusals_are_one_line_and_write_nothing(
    home: Path, service: SwarmService
) -> None:
    await service.tasks.create(TaskSpec("Pinned", agent="Agent-3"), "cli")  # infrastructure
    await service.tasks.create(TaskSpec("Finished"), "cli")
    await service.tasks.cancel("T-2", "cli")
    cases = {
        ("T-1",): "nothing to change: give --title, --details, --priority or --role",
        ("T-1", "--priority", "urgent-ish"): "invalid priority 'urgent-ish'",
        ("T-1", "--role", "chef"): "unknown role 'chef'",
        ("T-1", "--role", "qa"): "Agent-3 (infrastructure) is pinned to T-1 and cannot take "
        "the role qa",
        ("T-1", "--title", "two\nlines"): "title must be one line",
        ("T-2", "--priority", "high"): "T-2 is cancelled: a finished task is not edited",
        ("T-9", "--priority", "high"): "unknown task T-9",
    }
    before = [e.id for e in await service.history.events(limit=1000)]
    for args, error in cases.items():
        result = run_cli(home, "task", "edit", *args)
        assert result.code == 2 and result.out == "", (args, result)
        assert result.err.startswith("swarm: error: ") and error in result.err, (args, result.err)
        assert result.err.count("\n") == 1
    assert [e.id for e in await service.history.events(limit=1000)] == before
