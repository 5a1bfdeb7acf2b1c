"""Numbers and words (issue 53, item 8): ``swarm events`` says how many it left out, text is
shown rather than escaped, ``swarm ask`` without a task id from the agent holding one,
``task add`` says when no coordinator runs, one migration line."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.discordbot.inbox_commands import need_line
from core.agent_state import AgentState, Signal
from core.agents import _signals as agent_signals
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from core.store.migrations import LATEST
from tests.helpers import run_cli
from tests.inbox.test_inbox import deliver_next, fail_delivery

pytestmark = pytest.mark.both_databases


async def test_events_say_how_many_matched_beyond_the_limit(
    cli_home: Path, service: SwarmService
) -> None:
    for n in range(5):
        await service.tasks.create(TaskSpec(f"task {n}"), "cli")
    total = len(await service.history.last(1000))
    shown = run_cli(cli_home, "events", "--limit", "3")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert len(lines) == 4 and lines[-1] == f"3 of {total} (--limit N)"
    kinds = run_cli(cli_home, "events", "--limit", "2", "--kind", "task.created")
    assert kinds.out.splitlines()[-1] == "2 of 5 (--limit N)"
    whole = run_cli(cli_home, "events", "--limit", str(total))
    assert len(whole.out.splitlines()) == total and " of " not in whole.out.splitlines()[-1]
    assert run_cli(cli_home, "events", "--limit", "3", "--json").out.startswith("[")


async def test_line_breaks_are_shown_as_spaces_not_escaped(
    cli_home: Path, service: SwarmService, clock: ManualClock
) -> None:
    """A note, a pane's evidence and a message of several lines: in ``swarm events`` and in
    Discord's /inbox they read as text (before: a literal ``\\x0a``); an escape sequence is
    still escaped."""
    task = await service.tasks.create(TaskSpec("Fix the build", agent="Agent-1"), "cli")
    await service.queue.assign_batch()
    await deliver_next(service)
    await service.tasks.complete(task.ref, "Agent-1", "fixed it\nand tested\tit")
    await service.store.update(agent_signals.set_state, "Agent-2", AgentState.OFFLINE,
                               clock.now(), Signal.TEXT, "text: pane\n gone \x1b[2J")  # fmt: skip
    events = run_cli(cli_home, "events").out
    assert "T-1 done by Agent-1: fixed it and tested it" in events
    assert "Agent-2 is offline (text: pane gone \\x1b[2J)" in events
    assert "\\x0a" not in events and "\\x09" not in events and "\x1b" not in events
    await fail_delivery(service, "Agent-3", "first line\nsecond line")
    (need,) = [n for n in await service.inbox.needs() if n.kind == "undelivered"]
    line = need_line(need)
    assert "'first line second line'" in line and "\\x0a" not in line


async def test_ask_without_a_task_id_asks_about_the_task_the_agent_holds(
    cli_home: Path, service: SwarmService
) -> None:
    task = await service.tasks.create(TaskSpec("Pick a database", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    asked = run_cli(cli_home, "ask", "Postgres or SQLite?", agent="Agent-2")
    assert asked.code == 0, asked.err
    assert asked.out.startswith(f"{task.ref}: question 1 asked; {task.ref} waits for an answer")
    assert (await service.questions.open_question(task.id)) is not None
    for agent, said in (
        (None, 'name the task: swarm ask T-3 "question" (only an agent holding one task'),
        ("Agent-3", 'Agent-3 holds no task: name the task: swarm ask T-3 "question"'),
    ):
        refused = run_cli(cli_home, "ask", "Which one?", agent=agent)
        assert refused.code != 0 and said in refused.err and refused.err.count("\n") == 1
    lone = run_cli(cli_home, "ask", "T-1", agent="Agent-2")
    assert lone.code != 0 and 'the question is missing: swarm ask T-1 "question"' in lone.err
    assert list(await service.questions.open_questions()) == [task.id]  # nothing more asked


async def test_task_add_without_a_coordinator_says_the_task_waits(
    cli_home: Path, service: SwarmService
) -> None:
    added = run_cli(cli_home, "task", "add", "Fix the build")
    assert added.code == 0, added.err
    assert added.out.startswith("T-1")
    assert added.err == (
        f"swarm: T-1 waits for a coordinator: none is running for this SWARM_HOME "
        f"({cli_home}); 'swarm run' starts one\n"
    )


async def test_a_new_database_logs_one_migration_line(
    settings: Settings, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    """The first run logs one line, not one per migration (34 of them)."""
    with contextlib.ExitStack() as stack:
        if settings.database_url:  # the suite's databases are copies of a migrated one
            url = stack.enter_context(empty_database(request.getfixturevalue("pg_server")))
            settings = dataclasses.replace(settings, database_url=url)
        with caplog.at_level(logging.INFO):
            service = await SwarmService.open(settings, ManualClock())
            await service.close()
    said = [r.getMessage() for r in caplog.records]
    assert [s for s in said if "schema version" in s or "migrated" in s] == [
        f"database created (schema version {LATEST})"
    ]


@contextlib.contextmanager
def empty_database(server: Any) -> Iterator[str]:
    """A new PostgreSQL database with nothing in it; dropped after."""
    import psycopg

    name = f"swarm_words_empty_{os.getpid()}"
    with psycopg.connect(server.cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.cluster.url(name)
    finally:
        server.drop(server.cluster.url(name))
