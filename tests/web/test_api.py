"""The REST API through the real app and a real SQLite store: auth, audit, errors, reads."""

from __future__ import annotations

import re

import httpx
import pytest

from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.web.conftest import acting_rows, bearer, make_token

pytestmark = pytest.mark.both_databases


async def test_every_request_needs_a_live_token(
    client: httpx.AsyncClient, service: SwarmService, clock: ManualClock
) -> None:
    none = await client.get("/api/v1/tasks")
    assert none.status_code == 401 and "swarm web token create" in none.json()["error"]
    unknown = await client.get("/api/v1/tasks", headers=bearer("swt_not-a-token"))
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "unknown, revoked or expired token"}
    soon = await make_token(service, "admin", "short", expires_at=clock.now() + 60)
    assert (await client.get("/api/v1/status", headers=bearer(soon))).status_code == 200
    clock.advance(61)
    assert (await client.get("/api/v1/status", headers=bearer(soon))).status_code == 401


async def test_a_viewer_reads_but_may_not_act_and_the_refusal_is_audited(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    listed = await client.get("/api/v1/tasks", headers=bearer(viewer_token))
    assert listed.status_code == 200 and listed.json() == {"tasks": [], "next_cursor": None}
    refused = await client.post(
        "/api/v1/tasks", json={"title": "sneaky"}, headers=bearer(viewer_token)
    )
    assert refused.status_code == 403 and "viewer token" in refused.json()["error"]
    assert await service.tasks.newest() == []
    (row,) = await acting_rows(service)
    assert (row.user_name, row.command, row.allowed) == ("wall", "POST /api/v1/tasks", 0)
    assert row.outcome == "refused: viewer token"


async def test_an_admin_acts_through_the_service_and_each_action_is_audited(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    auth = bearer(admin_token)
    made = await client.post(
        "/api/v1/tasks",
        headers=auth,
        json={"title": "Write the parser", "priority": "high", "role": "integration"},
    )
    assert made.status_code == 201 and made.json()["status"] == "ready"
    ref = made.json()["id"]
    assigned = await client.post(
        f"/api/v1/tasks/{ref}/assign", headers=auth, json={"agent": "agent-2"}
    )
    assert assigned.status_code == 200 and assigned.json()["pinned"] == "Agent-2"
    cancelled = await client.post(f"/api/v1/tasks/{ref}/cancel", headers=auth)
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.post(f"/api/v1/tasks/{ref}/retry", headers=auth)).status_code == 200
    paused = await client.post("/api/v1/agents/Agent-3/pause", headers=auth)
    assert paused.json() == {"agent": "Agent-3", "paused": True, "changed": True}
    stopped = await client.post("/api/v1/input/pause", headers=auth, json={"reason": "lunch"})
    assert service.kill_switch.engaged and "lunch" in stopped.json()["input_paused"]
    await client.post("/api/v1/input/resume", headers=auth)
    assert not service.kill_switch.engaged
    sent = await client.post("/api/v1/messages", headers=auth, json={"text": "hi", "role": "qa"})
    assert sent.status_code == 201 and sent.json()["agents"] == ["Agent-4"]
    history = (await client.get(f"/api/v1/tasks/{ref}", headers=auth)).json()["events"]
    assert history[0]["actor"] == "web:laptop"
    iso = re.compile(r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # the CLI's --json shape
    assert iso.match(made.json()["created_at"]) and iso.match(history[0]["ts"])
    rows = await acting_rows(service)
    assert len(rows) == 8 and {r.user_name for r in rows} == {"laptop"}
    assert all(r.allowed == 1 and r.outcome == "ok" for r in rows)
    assert rows[-1].command == "POST /api/v1/tasks"


async def test_errors_are_the_cli_texts_as_json_and_nothing_is_written(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    auth = bearer(admin_token)
    missing = await client.get("/api/v1/tasks/T-99", headers=auth)
    assert missing.status_code == 404 and missing.json() == {"error": "unknown task T-99"}
    empty = await client.post("/api/v1/tasks", headers=auth, json={"title": "  "})
    assert empty.status_code == 400 and empty.json() == {"error": "title must not be empty"}
    made = (await client.post("/api/v1/tasks", headers=auth, json={"title": "x"})).json()
    before = len(await service.history.events(limit=1000))
    done = await client.post(f"/api/v1/tasks/{made['id']}/done", headers=auth)
    assert done.status_code == 409 and made["id"] in done.json()["error"]
    assert len(await service.history.events(limit=1000)) == before
    outcome = (await service.history.audit_rows())[0].outcome
    assert outcome == f"error: {done.json()['error']}"
    bad = await client.post("/api/v1/tasks", headers=auth, json={"details": "no title"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("invalid request: title")
    status = await client.get("/api/v1/tasks?status=sleeping", headers=auth)
    assert status.status_code == 400 and "invalid status 'sleeping'" in status.json()["error"]


async def test_tasks_are_filtered_and_paged_with_a_cursor(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    from core.models import TaskSpec

    await service.tasks.create_many(
        [TaskSpec(title=f"task {n}") for n in range(5)] + [TaskSpec(title="the 100% parser")], "cli"
    )
    auth = bearer(viewer_token)
    first = (await client.get("/api/v1/tasks?limit=4", headers=auth)).json()
    assert [t["id"] for t in first["tasks"]] == ["T-6", "T-5", "T-4", "T-3"]
    rest = (
        await client.get(f"/api/v1/tasks?limit=4&cursor={first['next_cursor']}", headers=auth)
    ).json()
    assert [t["id"] for t in rest["tasks"]] == ["T-2", "T-1"] and rest["next_cursor"] is None
    found = (await client.get("/api/v1/tasks", params={"q": "100%"}, headers=auth)).json()
    assert [t["id"] for t in found["tasks"]] == ["T-6"]
    by_ref = (await client.get("/api/v1/tasks", params={"q": "t-2"}, headers=auth)).json()
    assert [t["id"] for t in by_ref["tasks"]] == ["T-2"]
    ready = (await client.get("/api/v1/tasks?status=done", headers=auth)).json()
    assert ready["tasks"] == []


async def test_events_after_an_id_and_the_status(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    from core.models import TaskSpec

    (made,) = await service.history.last(1)  # the viewer token's creation (token.created)
    await service.tasks.create(TaskSpec(title="a"), "cli")
    auth = bearer(viewer_token)
    page = (await client.get(f"/api/v1/events?after={made.id}&limit=1", headers=auth)).json()
    assert page["events"][0]["kind"] == "task.created" and page["last_id"] == made.id + 1
    after = (await client.get(f"/api/v1/events?after={page['last_id']}", headers=auth)).json()
    assert [e["id"] for e in after["events"]] == [made.id + 2]
    status = (await client.get("/api/v1/status", headers=auth)).json()
    assert status["tasks"]["ready"] == 1 and len(status["agents"]) == 8


async def test_a_cookie_authenticated_action_needs_the_csrf_header(
    client: httpx.AsyncClient, service: SwarmService, admin_token: str
) -> None:
    client.cookies.set("swarm_token", admin_token)
    forged = await client.post("/api/v1/input/pause")
    assert forged.status_code == 403 and "X-Swarm-CSRF" in forged.json()["error"]
    assert not service.kill_switch.engaged
    real = await client.post("/api/v1/input/pause", headers={"X-Swarm-CSRF": "1"})
    assert real.status_code == 200 and service.kill_switch.engaged
