"""Message targets in columns (issue 42, item 4): migration 31 turns the ``target`` grammar
of a database at the previous version ("agent:X", "role:R", "all", "note:X", "reset:X",
"withdraw:X"; a schedule's "agent:X", "role:R", "all") into ``target_kind`` and
``target_name``, and the delivery and the schedules read the kind. On SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.coordinator.scheduler import Scheduler
from core.delivery import _undelivered as undelivered
from core.delivery._onboarding import RESET_TEXT
from core.models import Target, TargetKind
from core.protocols import ManualClock
from core.schedules import recurring
from core.schedules.timing import local_zone
from core.service.swarm import SwarmService
from core.store.migrations import migrations
from tests.conftest import BACKENDS
from tests.delivery.old_database import old_database
from tests.helpers import RecordingDeliverer, query

pytestmark = pytest.mark.timeout(60)

# the version before the target columns (later migrations may follow it)
_BEFORE = next(
    number
    for number, steps in enumerate(migrations("sqlite"))
    if "ALTER TABLE messages ADD COLUMN target_kind TEXT NOT NULL DEFAULT 'agent'" in steps
)

# A database one version old: a message of each target the grammar had, and a bare name.
_OLD_ROWS = (
    "INSERT INTO tasks (title, priority, status, created_at, updated_at, kind) VALUES "
    "('first', 1, 'failed', 0, 0, 'work')",
    "INSERT INTO messages (sender, target, text, task_id, created_at) VALUES "
    "('cli', 'agent:Agent-1', 'hello', NULL, 0), "
    "('cli', 'role:dev', 'to the devs', NULL, 0), "
    "('cli', 'all', 'to all', NULL, 0), "
    "('swarm', 'note:Agent-2', 'an answer', 1, 0), "
    "('swarm', 'reset:Agent-3', 'old reset text', NULL, 0), "
    "('swarm', 'withdraw:Agent-2', 'stop T-1', 1, 0), "
    "('cli', 'Agent-1', 'a bare name', NULL, 0)",
    "INSERT INTO deliveries (message_id, agent_id, state, attempts, reason, created_at, "
    "updated_at) VALUES "
    "(1, 'Agent-1', 'delivered', 1, NULL, 0, 0), (2, 'Agent-1', 'delivered', 1, NULL, 0, 0), "
    "(3, 'Agent-1', 'delivered', 1, NULL, 0, 0), (4, 'Agent-2', 'queued', 0, NULL, 0, 0), "
    "(5, 'Agent-3', 'queued', 0, NULL, 0, 0), (6, 'Agent-2', 'failed', 3, 'gone', 0, 0), "
    "(7, 'Agent-1', 'delivered', 1, NULL, 0, 0)",
    "INSERT INTO schedules (kind, target, text, period, cron, next_run_at, created_at) VALUES "
    "('prompt', 'agent:Agent-1', 'ping', NULL, '0 9 * * *', 0, 0), "
    "('prompt', 'role:qa', 'run the tests', NULL, '0 9 * * *', 0, 0), "
    "('prompt', 'all', 'hi all', NULL, '0 9 * * *', 0, 0), "
    "('summary', NULL, '', '1d', '0 18 * * *', 0, 0)",
)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_upgraded_database_keeps_its_targets_in_columns(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> None:
    with old_database(backend, request, tmp_path / "home", _BEFORE, _OLD_ROWS) as settings:
        service = await SwarmService.open(settings, clock)
        try:
            await _check_upgraded(service, backend)
        finally:
            await service.close()


async def _check_upgraded(service: SwarmService, backend: str) -> None:
    settings = service.settings
    rows = query(settings, "SELECT target_kind, target_name FROM messages ORDER BY id")
    assert rows == [
        ("agent", "Agent-1"),
        ("role", "dev"),
        ("all", None),
        ("note", "Agent-2"),
        ("reset", "Agent-3"),
        ("withdraw", "Agent-2"),
        ("agent", "Agent-1"),  # a bare name was an agent's, as a plain message's
    ]
    columns = (
        "SELECT name FROM pragma_table_info('messages')"
        if backend == "sqlite"
        else "SELECT column_name FROM information_schema.columns WHERE table_name = 'messages'"
    )
    assert "target" not in {name for (name,) in query(settings, columns)}
    # the withdrawal that failed reads as one; the note and the reset go out as before
    failed = await service.store.read(undelivered.failed_for_good)
    assert [(f.what, f.target) for f in failed] == [
        ("T-1 withdrawal notice", Target(TargetKind.withdraw, "Agent-2"))
    ]
    deliverer = RecordingDeliverer()
    await Scheduler(service, deliverer).deliver_once()
    (reset,) = deliverer.for_agent("Agent-3")
    assert (reset.text, reset.task_id) == (RESET_TEXT, None)  # the reset action, not its text
    (note,) = deliverer.for_agent("Agent-2")
    assert note.task_id == 1 and "an answer" in note.text
    assert "workspace" not in note.text.lower()  # a note: no prompt's workspace
    await _check_schedules(service)


async def _check_schedules(service: SwarmService) -> None:
    rows = query(service.settings, "SELECT target_kind, target_name FROM schedules ORDER BY id")
    assert rows == [("agent", "Agent-1"), ("role", "qa"), ("all", None), (None, None)]
    listed = await recurring.list_schedules(service)
    assert [(s.what, s.to_json()["target"]) for s in listed] == [
        ("prompt to agent:Agent-1", "agent:Agent-1"),
        ("prompt to role:qa", "role:qa"),
        ("prompt to all", "all"),
        ("summary of 1d", None),
    ]
    sent = []
    for schedule in listed[:3]:  # each prompt goes to its agent, role or everyone
        await service.store.write("scheduler", recurring.claim, schedule.id, local_zone())
        message = await service.store.read(_last_message)
        sent.append(message)
    roles = {a.id: a.role for a in service.agents.values()}
    testers = sorted(a for a, role in roles.items() if role == "qa")
    assert sent == [
        ("agent", "Agent-1", ["Agent-1"]),
        ("role", "qa", testers),
        ("all", None, sorted(roles)),
    ]


def _last_message(conn: Any) -> tuple[str, str | None, list[str]]:
    row = conn.execute(
        "SELECT id, target_kind, target_name FROM messages ORDER BY id DESC LIMIT 1"
    ).fetchone()
    agents = conn.execute(
        "SELECT agent_id FROM deliveries WHERE message_id = $1 ORDER BY agent_id", (row["id"],)
    ).fetchall()
    return (row["target_kind"], row["target_name"], [a["agent_id"] for a in agents])
