"""``swarm db copy``: a SQLite home into PostgreSQL, verified by counts; refusals."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.coordinator.home_lock import running_coordinator
from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import ROOT, RecordingDeliverer, cli_env, run_cli, table_counts

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
TABLES = ("tasks", "task_deps", "events", "messages", "deliveries", "agent_state", "audit")


async def _sqlite_home(home: Path) -> Settings:
    settings = Settings.from_env({"SWARM_HOME": str(home)})
    service = await SwarmService.open(settings)
    try:
        first = await service.tasks.create(TaskSpec("build"), "me")
        await service.tasks.create_many(
            [TaskSpec(f"test {i}", after=(first.ref,)) for i in range(3)], "me"
        )
        await service.messages.send("Agent-2", "hello", "me")
        await service.history.audit(42, "ann", "/task add", True, "ok")
        await Scheduler(service, RecordingDeliverer()).run_burst()
        await service.tasks.complete(first.ref, "Agent-1", "done", force=True)
    finally:
        await service.close()
    return settings


async def test_a_home_is_copied_and_verified_by_counts(tmp_path: Path, database_url: str) -> None:
    lite = await _sqlite_home(tmp_path / "home")
    result = run_cli(
        tmp_path / "home", "db", "copy", "--from", f"sqlite://{lite.db_path}", "--to", database_url
    )
    assert result.code == 0, result.err
    assert "counts match" in result.out
    pg = Settings.from_env({"SWARM_HOME": str(tmp_path / "pg"), "SWARM_DATABASE_URL": database_url})
    assert table_counts(pg, *TABLES) == table_counts(lite, *TABLES)
    assert all(n > 0 for n in table_counts(pg, *TABLES))
    service = await SwarmService.open(pg)
    try:
        assert sorted(t.title for t in await service.tasks.newest(status="ready")) == [
            "test 0",
            "test 1",
            "test 2",
        ]
        new = await service.tasks.create(TaskSpec("after the move"), "me")  # ids carry on
        assert new.id == 5
    finally:
        await service.close()
    again = run_cli(
        tmp_path / "home", "db", "copy", "--from", f"sqlite://{lite.db_path}", "--to", database_url
    )
    assert again.code == 2 and "the destination is not empty" in again.err


def test_bad_urls_are_one_line_errors(tmp_path: Path, database_url: str) -> None:
    missing = run_cli(
        tmp_path, "db", "copy", "--from", "sqlite:///no/such.db", "--to", database_url
    )
    assert missing.code == 2 and missing.err.startswith("swarm: error: --from: no database")
    wrong = run_cli(
        tmp_path, "db", "copy", "--from", "sqlite:///no/such.db", "--to", "mysql://u:hunter2@x/db"
    )
    assert wrong.code == 2 and "hunter2" not in wrong.err
    assert len(wrong.err.strip().splitlines()) == 1


async def test_a_coordinator_running_on_the_source_stops_the_copy_unless_forced(
    tmp_path: Path, database_url: str
) -> None:
    lite = await _sqlite_home(tmp_path / "home")
    codes = await asyncio.to_thread(_copy_beside_a_coordinator, tmp_path, lite, database_url)
    assert codes == (2, 0)  # refused, then forced (what each said: checked on the way)


@contextlib.contextmanager
def _coordinator(home: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``swarm run`` on ``home`` (as its user left it), once it holds the home."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "run", "--no-discord"],
            env=cli_env(home, env={"SWARM_WEB": "off"}),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while running_coordinator(home) is None:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "swarm run never held the home"
            time.sleep(0.02)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def _copy_beside_a_coordinator(tmp_path: Path, lite: Settings, url: str) -> tuple[int, int]:
    home = lite.home
    copy = ("db", "copy", "--from", f"sqlite://{lite.db_path}", "--to", url)
    pg = Settings.from_env({"SWARM_HOME": str(tmp_path / "pg"), "SWARM_DATABASE_URL": url})
    with _coordinator(home, tmp_path / "run.log") as coordinator:
        refused = run_cli(home, *copy)
        assert refused.code == 2 and len(refused.err.splitlines()) == 1, refused.err
        assert f"a coordinator is running on {home} (pid {coordinator.pid} since" in refused.err
        assert "--force" in refused.err and "is not copied" in refused.err
        assert table_counts(pg, *TABLES) == (0,) * len(TABLES)  # nothing written
        forced = run_cli(home, *copy, "--force")
        assert forced.code == 0, forced.err
        assert "swarm: warning: a coordinator is running on" in forced.err
        assert "what it writes after the copy starts" in forced.err
        assert "a coordinator was running" in forced.out.splitlines()[-1]
        assert table_counts(pg, "tasks") == (4,)  # what was there when it started
        assert coordinator.poll() is None  # left running
    return refused.code, forced.code


def test_the_copy_holds_the_source_home_so_no_coordinator_starts_during_it(
    tmp_path: Path, database_url: str
) -> None:
    """The lock the copy takes is the coordinator's: one started meanwhile stops at once."""
    from bot.cli.db import _source_held

    home = tmp_path / "home"
    home.mkdir()
    with _source_held(home, force=False) as warning:
        assert warning is None
        started = run_cli(home, "run", "--no-discord", env={"SWARM_WEB": "off"})
        assert started.code != 0 and "already running" in started.err
    assert running_coordinator(home) is None  # let go after the copy
