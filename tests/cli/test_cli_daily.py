"""The CLI people expect: --version, "did you mean", global options after the subcommand,
open tasks by default, errors naming the database, the coordinator in ``status``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.cli.main import hoist_global_options, main
from core.coordinator.home_lock import CoordinatorLock, Heartbeat, last_heartbeat
from core.delivery._envelope import render
from core.errors import MissingDependency, UnknownTask
from core.models import TaskSpec
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import run_cli

pytestmark = pytest.mark.both_databases


def test_version_and_did_you_mean(tmp_path: Path) -> None:
    version = run_cli(tmp_path, "--version")
    assert version.code == 0 and version.out.startswith("swarm 0.")
    typo = run_cli(tmp_path, "staus")
    assert typo.code == 2 and typo.err.endswith("did you mean 'status'? (see swarm --help)\n")
    nested = run_cli(tmp_path, "task", "lst")
    assert "did you mean 'list'?" in nested.err and len(nested.err.splitlines()) == 1
    far = run_cli(tmp_path, "xyzzy")
    assert far.code == 2 and "did you mean" not in far.err


def test_global_options_are_hoisted_unless_after_a_double_dash() -> None:
    assert hoist_global_options(["task", "done", "T-1", "--as", "Agent-2", "-v"]) == [
        "--as",
        "Agent-2",
        "-v",
        "task",
        "done",
        "T-1",
    ]
    assert hoist_global_options(["send", "Agent-1", "--config=a.toml", "hi"]) == [
        "--config=a.toml",
        "send",
        "Agent-1",
        "hi",
    ]
    assert hoist_global_options(["send", "Agent-1", "--", "--as", "x"]) == [
        "send",
        "Agent-1",
        "--",
        "--as",
        "x",
    ]
    assert hoist_global_options(["task", "add", "t", "--as"]) == ["task", "add", "t", "--as"]
    assert hoist_global_options(["--json", "--as", "x", "task", "list", "--all"]) == [
        "--as",
        "x",
        "task",
        "list",
        "--all",
        "--json",
    ]
    assert hoist_global_options(["send", "A", "--json", "--", "--json"]) == [
        "send",
        "A",
        "--json",
        "--",
        "--json",
    ]


def test_json_before_the_subcommand(home: Path) -> None:
    assert json.loads(run_cli(home, "--json", "status").out)["coordinator"] is None
    assert json.loads(run_cli(home, "--json", "task", "list").out) == []
    refused = run_cli(home, "--json", "calibrate")
    assert refused.code == 2 and refused.err.count("\n") == 1


async def test_as_after_the_subcommand_reports_as_that_agent(
    home: Path, service: SwarmService
) -> None:
    await service.tasks.create(TaskSpec("job", agent="Agent-2"), "cli")
    await service.queue.assign_batch()
    started = run_cli(home, "task", "start", "T-1", "--as", "Agent-2", "--note", "on it")
    assert started.code == 0, started.err
    assert (await service.history.events(task="T-1"))[-1].actor == "Agent-2"


async def test_task_list_shows_open_tasks_unless_all(home: Path, service: SwarmService) -> None:
    for title in ("finished", "open"):
        await service.tasks.create(TaskSpec(title), "cli")
    await service.tasks.cancel("T-1", "cli")
    shown = json.loads(run_cli(home, "task", "list", "--json").out)
    assert [t["id"] for t in shown] == ["T-2"]
    every = json.loads(run_cli(home, "task", "list", "--all", "--json").out)
    assert [t["id"] for t in every] == ["T-2", "T-1"]
    cancelled = json.loads(run_cli(home, "task", "list", "--status", "cancelled", "--json").out)
    assert [t["id"] for t in cancelled] == ["T-1"]


def test_unknown_task_names_the_database(home: Path) -> None:
    result = run_cli(home, "task", "show", "T-9")
    assert (result.code, result.err) == (
        2,
        f"swarm: error: unknown task T-9 (in {home / 'swarm.db'})\n",
    )


LOOKUPS = [
    ["task", "done", "T-9"],
    ["task", "note", "T-9", "x"],
    ["task", "depend", "T-9", "T-8"],
    ["task", "add", "x", "--after", "T-9"],
    ["ask", "T-9", "why?"],
    ["reply", "T-9", "y"],
    ["task", "diff", "T-9"],
    ["workflow", "approve", "T-9"],
    ["events", "--task", "x"],
]


def test_every_unknown_task_names_the_database(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SWARM_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "no-user-config"))
    for argv in LOOKUPS:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("swarm: error: ") and err.endswith(f" (in {home / 'swarm.db'})\n"), (
            argv,
            err,
        )


async def test_an_unknown_task_is_told_apart_by_its_type(service: SwarmService) -> None:
    # the CLI names the database for these two error types (never by matching their text)
    for ref in ("T-9", "x"):
        with pytest.raises(UnknownTask, match=r"^unknown task"):
            await service.tasks.get(ref)
    with pytest.raises(MissingDependency, match=r"^dependency T-9 does not exist$"):
        await service.tasks.create(TaskSpec("t", after=("T-9",)), "cli")


def test_status_names_the_coordinator_and_send_warns_without_one(home: Path) -> None:
    alone = run_cli(home, "send", "Agent-1", "hello")
    assert alone.code == 0 and alone.err.startswith(
        "swarm: warning: no coordinator is running for this SWARM_HOME"
    )
    assert run_cli(home, "status").out.startswith("coordinator: not running")
    with CoordinatorLock(home):  # this test process is the coordinator
        status = run_cli(home, "status")
        assert status.out.startswith(f"coordinator: running, pid {os.getpid()} since 20")
        overview = json.loads(run_cli(home, "status", "--json").out)
        assert overview["coordinator"]["pid"] == os.getpid()
        sent = run_cli(home, "send", "Agent-1", "hello")
        assert (sent.code, sent.err) == (0, "")
    assert json.loads(run_cli(home, "status", "--json").out)["coordinator"] is None


def test_prompts_name_the_home_only_when_it_is_not_the_default(tmp_path: Path) -> None:
    assert Settings.from_env({}).custom_home is None
    assert Settings.from_env({"SWARM_HOME": "~/.swarm"}).custom_home is None
    odd = tmp_path / "my swarm"
    assert Settings.from_env({"SWARM_HOME": str(odd)}).custom_home == odd
    text = render("do it", sender="cli", agent="Agent-1", task_id=3, home=odd)
    assert text.endswith(  # the home one shell word, said once (issue 41, item 8)
        f"Report back from your terminal: SWARM_HOME='{odd}' swarm task start|note|done|fail "
        'T-3 (start when you begin; note T-3 "progress so far", kept for whoever takes over; '
        'done T-3 --note "what you did"; fail T-3 --reason "why")'
    )
    assert text.count("SWARM_HOME") == 1
    assert len(text.splitlines()[-1].replace(f"'{odd}'", "H")) < 220  # was 270
    assert "SWARM_HOME" not in render("do it", sender="cli", agent="Agent-1", task_id=3)


async def test_status_shows_the_loops_heartbeat(settings: Settings) -> None:
    """`swarm run`'s loop beats (bot/app.py wires the timer); a beat too old is called out."""
    import asyncio
    import re
    import time

    from core.coordinator.home_lock import HEARTBEAT_NAME
    from tests.helpers import headless_run, recording_builder

    home = settings.home
    async with headless_run(recording_builder(settings)) as runner:
        for _ in range(500):
            if (home / HEARTBEAT_NAME).exists() or runner.done():
                break
            await asyncio.sleep(0.02)
        status = await asyncio.to_thread(run_cli, home, "status")
        assert status.out.startswith(f"coordinator: running, pid {os.getpid()} since 20")
        first = status.out.splitlines()[0]
        assert re.search(r", last heartbeat \d+ s ago$", first), first  # not "not responding"
        overview = json.loads((await asyncio.to_thread(run_cli, home, "status", "--json")).out)
        assert overview["coordinator"]["heartbeat"].endswith("Z")
        await Heartbeat(home, ManualClock(time.time() - 600)).fire()  # the loop stopped beating
        late = (await asyncio.to_thread(run_cli, home, "status")).out.splitlines()[0]
        assert re.search(r", last heartbeat 60\d s ago \(the loop is not responding\)$", late)


async def test_the_heartbeat_makes_its_home_folder(tmp_path: Path) -> None:
    """A coordinator on PostgreSQL may start before anything made ``$SWARM_HOME``."""
    home = tmp_path / "new" / "home"
    assert await Heartbeat(home, ManualClock(1000.0)).fire() == 1
    assert last_heartbeat(home, os.getpid()) == 1000.0
