"""The audit table cannot be flooded: refused actions of one token are rate-limited, and
retention archives and deletes old audit rows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.coordinator.retention import DAY_S, collect_garbage
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import read_archive
from tests.web.conftest import acting_rows, bearer

pytestmark = pytest.mark.both_databases


async def test_a_viewer_hammering_an_action_writes_few_audit_rows(
    client: httpx.AsyncClient, viewer_token: str, service: SwarmService, clock: ManualClock
) -> None:
    for _ in range(300):
        got = await client.post("/api/v1/input/pause", headers=bearer(viewer_token))
        assert got.status_code == 403
    rows = await acting_rows(service, 1000)
    assert 1 <= len(rows) <= 10
    assert all(r.outcome.startswith("refused: viewer token") for r in rows)
    clock.advance(61)
    assert (
        await client.post("/api/v1/input/pause", headers=bearer(viewer_token))
    ).status_code == 403
    newest = (await service.history.audit_rows(1))[0]
    assert newest.outcome == (
        "refused: viewer token (and 290 more refused since the previous row, not written)"
    )
    assert not service.kill_switch.reason()


async def test_retention_archives_and_deletes_old_audit_rows(
    service: SwarmService, clock: ManualClock
) -> None:
    for n in range(5):
        await service.history.audit("web-token:1", "wall", f"POST /api/v1/x{n}", False, "refused")
    clock.advance(100 * DAY_S)
    await service.history.audit("web-token:1", "wall", "POST /api/v1/recent", True, "ok")
    dry = await collect_garbage(service, dry_run=True)
    assert dry.audit == 5 and "5 audit rows" in dry.summary(dry_run=True)
    done = await collect_garbage(service)
    assert done.audit == 5 and done.archive is not None
    assert [r.command for r in await service.history.audit_rows(100)] == ["POST /api/v1/recent"]
    archived = await asyncio.to_thread(read_archive, done.archive)
    assert sorted(r["command"] for r in archived if r["table"] == "audit") == [
        f"POST /api/v1/x{n}" for n in range(5)
    ]
