"""The ``swarm`` CLI in real child processes over a real database.

The tests that store and read through the CLI run on SQLite and PostgreSQL; the ones about
refused input (nothing written: one transaction on either) and ``--help`` on SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli.format import task_detail
from bot.config import swarm_program
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.tasks import _person as person
from tests.helpers import RecordingDeliverer, run_cli


def rows(home: Path) -> tuple[int, int]:
    """Tasks and events stored."""
    db = home / "swarm.db"
    if not db.exists():
        return (0, 0)
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT count(*) FROM tasks").fetchone()[0],
            conn.execute("SELECT count(*) FROM events").fetchone()[0],
        )


@pytest.mark.both_databases
def test_add_list_show_json_fields(cli_home: Path) -> None:
    home = cli_home
    first = run_cli(
        home, "task", "add", "Design API", "--priority", "high", "--role", "architecture", "--json"
    )
    assert first.code == 0, first.err
    task = json.loads(first.out)
    assert task["id"] == "T-1" and task["status"] == "ready" and task["priority"] == "high"
    second = json.loads(run_cli(home, "task", "add", "Build it", "--after", "T-1", "--json").out)
    assert second["after"] == ["T-1"] and second["status"] == "blocked"
    listed = json.loads(run_cli(home, "task", "list", "--json").out)
    assert [t["id"] for t in listed] == ["T-2", "T-1"]
    assert {"id", "title", "status", "priority", "agent", "after", "attempts"} <= set(listed[0])
    blocked = json.loads(run_cli(home, "task", "list", "--status", "blocked", "--json").out)
    assert [t["id"] for t in blocked] == ["T-2"]
    shown = json.loads(run_cli(home, "task", "show", "t-2", "--json").out)
    assert shown["reason"] == "waiting for T-1"
    assert [e["kind"] for e in shown["events"]] == ["task.created", "task.waiting"]
    text = run_cli(home, "task", "show", "T-2").out
    assert "waiting for T-1" in text and "history:" in text


@pytest.mark.both_databases
def test_agent_reports_back_through_the_cli(cli_home: Path) -> None:
    home = cli_home
    run_cli(home, "task", "add", "Fix the bug", "--role", "qa")
    burst = run_cli(home, "run", "--no-discord", "--burst")
    assert burst.code == 0, burst.err
    assert "1 assigned" in burst.out
    shown = json.loads(run_cli(home, "task", "show", "T-1", "--json").out)
    assert shown["status"] == "assigned" and shown["agent"] == "Agent-4"
    inbox = list((home / "inbox" / "Agent-4").iterdir())
    assert len(inbox) == 1  # the prompt names this (not default) home in every command
    # its role text, swarm by absolute path: an agent's shell may lack the venv (issue 53)
    assert f"SWARM_HOME={home} {swarm_program()} task done T-N" in inbox[0].read_text()
    started = run_cli(home, "task", "start", "T-1", agent="Agent-4")
    assert started.code == 0 and "[in_progress]" in started.out
    done = run_cli(home, "task", "done", "T-1", "--note", "fixed in abc123", agent="Agent-4")
    assert done.code == 0 and "[done]" in done.out
    last = json.loads(run_cli(home, "events", "--json").out)[-1]
    assert last["kind"] == "task.done" and last["actor"] == "Agent-4"
    agents = json.loads(run_cli(home, "agents", "--json").out)
    assert next(a for a in agents if a["id"] == "Agent-4")["done"] == 1


@pytest.mark.both_databases
def test_messages_status_and_pause(cli_home: Path) -> None:
    home = cli_home
    assert "queued for Agent-2" in run_cli(home, "send", "agent-2", "hello there").out
    assert "queued for 8 agent(s)" in run_cli(home, "broadcast", "all hands").out
    assert "queued for 1 agent(s)" in run_cli(home, "broadcast", "web", "--role", "web").out
    status = json.loads(run_cli(home, "status", "--json").out)
    assert status["deliveries"]["queued"] == 10
    assert len(status["agents"]) == 8 and status["input_paused"] is None
    assert "paused" in run_cli(home, "pause", "lunch").out
    assert (home / "PAUSED").exists()
    assert "lunch" in json.loads(run_cli(home, "status", "--json").out)["input_paused"]
    assert run_cli(home, "resume").out.strip() == "desktop input resumed"
    assert not (home / "PAUSED").exists()
    assert "Agent-3 paused" in run_cli(home, "agents", "pause", "Agent-3").out
    assert "paused" in run_cli(home, "agents").out


BAD = [
    (["task", "add", ""], "title must not be empty"),
    (["task", "add", "x", "--priority", "asap"], "invalid priority 'asap'"),
    (["task", "add", "x", "--agent", "Agent-9"], "unknown agent 'Agent-9'"),
    (["task", "add", "x", "--after", "T-5"], "dependency T-5 does not exist"),
    (["task", "add", "x", "--role", "wizard"], "unknown role 'wizard'"),
    (["task", "add", "x", "--details", "d" * 8001], "limit is 8000"),
    (["task", "done", "T-1"], "T-1 is ready: only an assigned or in-progress task"),
    (["task", "fail", "T-1", "--reason", "no"], "T-1 is ready"),
    (["task", "show", "T-99"], "unknown task T-99"),
    (["task", "depend", "T-1", "T-1"], "dependency cycle"),
    (["task", "list", "--status", "sleeping"], "invalid status 'sleeping'"),
    (["send", "Agent-0", "hi"], "unknown agent 'Agent-0'"),
    (["send", "Agent-1", "x" * 8001], "limit is 8000"),
    (["broadcast", "hi", "--role", "nobody"], "unknown role 'nobody'"),
    (["agents", "pause", "Agent-77"], "unknown agent 'Agent-77'"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    home: Path, args: list[str], message: str
) -> None:
    assert run_cli(home, "task", "add", "existing").code == 0
    before = rows(home)
    result = run_cli(home, *args)
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("swarm: error: ")
    assert message in result.err
    assert rows(home) == before


def test_help_explains_itself(home: Path) -> None:
    result = run_cli(home, "--help")
    assert result.code == 0 and "swarm task done T-12" in result.out
    assert "--after" in run_cli(home, "task", "add", "--help").out


@pytest.mark.both_databases
def test_events_follow_prints_new_events_as_they_happen(cli_home: Path) -> None:
    home = cli_home
    import subprocess
    import sys
    import time

    from tests.helpers import ROOT, cli_env

    assert run_cli(home, "task", "add", "before").code == 0
    follow = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "events", "--follow", "--json"],
        env=cli_env(home),  # the test's user config: on PostgreSQL, its database
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(follow.stdout.readline())["kind"] == "task.created"  # type: ignore[union-attr]
        time.sleep(0.3)
        assert run_cli(home, "task", "add", "after").code == 0
        lines = [json.loads(follow.stdout.readline()) for _ in range(3)]  # type: ignore[union-attr]
        assert [e["kind"] for e in lines[1:]] == ["task.created", "task.ready"]
        assert "after" in lines[1]["text"]
    finally:
        follow.terminate()
        follow.wait(10)
        if follow.stdout:
            follow.stdout.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the text: the same on both
async def test_show_says_in_words_what_a_blocked_task_waits_for(
    home: Path, service: SwarmService
) -> None:
    """The ``blocked_on`` column in words (stored alike on both databases: test_state_columns)."""
    first, after, gate, broken, waited, cancelled = await service.tasks.create_many(
        [
            TaskSpec("first", ref="a", agent="Agent-1"),
            TaskSpec("after", ref="b", after=("w",)),
            TaskSpec("approve", ref="g", kind="gate"),
            TaskSpec("after a cancelled one", ref="c", after=("x",)),
            TaskSpec("waited for", ref="w"),
            TaskSpec("cancelled", ref="x"),
        ],
        "cli",
    )
    await service.tasks.cancel(cancelled, "cli")
    await Scheduler(service, RecordingDeliverer()).run_burst()
    await service.tasks.complete(first, "Agent-1")
    await service.store.write("cli", person.take_over, first, "the vendor's fix first")
    expected = {
        first: "a person, who took the work over (no agent takes it)",
        after: "its dependencies to finish (nobody needs to act)",
        gate: f"a person to approve the gate (swarm approve T-{gate}, swarm reject T-{gate})",
        broken: "a person: a dependency failed or was cancelled (retry it with swarm task "
        f"retry, or swarm task cancel T-{broken})",
    }
    for task, words in expected.items():
        shown = run_cli(home, "task", "show", f"T-{task}")
        assert shown.code == 0, shown.err
        assert f"\n  waiting for: {words}\n" in shown.out, shown.out
    assert "waiting for:" not in task_detail(await service.tasks.get(waited), [])  # not blocked
