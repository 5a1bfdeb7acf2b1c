"""``swarm db copy``: a SQLite home into PostgreSQL, verified by counts; refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.coordinator.scheduler import Scheduler
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.settings import Settings
from tests.helpers import RecordingDeliverer, run_cli, table_counts

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
TABLES = ("tasks", "task_deps", "events", "messages", "deliveries", "agent_state", "audit")


async def _sqlite_home(home: Path) -> Settings:
    settings = Settings.from_env({"SWARM_HOME": str(home)})
    service = await SwarmService.open(settings)
    try:
        first = await service.create_task(TaskSpec("build"), "me")
        await service.create_tasks(
            [TaskSpec(f"test {i}", after=(first.ref,)) for i in range(3)], "me"
        )
        await service.send("Agent-2", "hello", "me")
        await service.audit(42, "ann", "/task add", True, "ok")
        await Scheduler(service, RecordingDeliverer()).run_burst()
        await service.complete_task(first.ref, "Agent-1", "done", force=True)
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
        assert sorted(t.title for t in await service.list_tasks(status="ready")) == [
            "test 0",
            "test 1",
            "test 2",
        ]
        new = await service.create_task(TaskSpec("after the move"), "me")  # ids carry on
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
