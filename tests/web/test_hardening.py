"""API docs without a CDN and behind a token, security headers, huge numbers, the login
page's error text, token expiry on the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx

from core.access import _tokens as tokens
from core.service.swarm import SwarmService
from tests.helpers import run_cli
from tests.web.conftest import bearer


async def test_api_docs_need_a_token_and_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    page = await client.get("/api/docs")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await client.get("/api/openapi.json")).status_code == 401
    spec = await client.get("/api/openapi.json", headers=bearer(viewer_token))
    assert spec.status_code == 200 and "/api/v1/tasks" in spec.json()["paths"]
    client.cookies.set("swarm_token", viewer_token)
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert "POST /api/v1/tasks" in page.text and "title" in page.text
    assert "cdn" not in page.text.lower() and "swagger" not in page.text.lower()
    assert "https://" not in page.text and "http://" not in page.text


async def test_every_answer_forbids_framing_and_other_origins(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    for got in (
        await client.get("/login"),
        await client.get("/api/v1/status"),
        await client.get("/api/v1/status", headers=bearer(viewer_token)),
    ):
        policy = got.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert got.headers["x-frame-options"] == "DENY"
        assert got.headers["x-content-type-options"] == "nosniff"


async def test_huge_numbers_are_a_json_error_not_a_crash(
    client: httpx.AsyncClient, viewer_token: str
) -> None:
    huge = "9" * 30
    for path in (
        f"/api/v1/tasks?campaign={huge}",
        f"/api/v1/events?after={huge}",
        f"/api/v1/events/stream?after={huge}",
    ):
        got = await client.get(path, headers=bearer(viewer_token))
        assert got.status_code == 422, (path, got.text)
        assert "less than or equal to" in got.json()["error"]


async def test_the_login_page_shows_only_its_own_error_texts(client: httpx.AsyncClient) -> None:
    planted = await client.get("/login", params={"error": "Your token expired: call +1 555"})
    assert planted.status_code == 200 and "call +1 555" not in planted.text
    refused = await client.post("/login", data={"token": "swt_wrong", "next": "/"})
    assert refused.status_code == 303
    shown = await client.get(refused.headers["location"])
    assert "Unknown, revoked or expired token." in shown.text


async def test_token_expiry_on_the_cli(tmp_path: Path, service: SwarmService) -> None:
    home = service.settings.home
    never = run_cli(home, "web", "token", "create", "--role", "viewer", "--expires", "0")
    assert never.code == 2 and never.out == ""
    assert never.err.startswith("swarm: error:") and len(never.err.splitlines()) == 1
    assert await service.store.read(tokens.rows) == []  # nothing written
    await service.store.update(
        tokens.create, tokens.new_token(), "old", tokens.Role.viewer, 0.5, 1.0
    )  # expired in 1970
    assert (
        run_cli(
            home, "web", "token", "create", "--role", "viewer", "--name", "month", "--expires", "30"
        ).code
        == 0
    )
    listed = run_cli(home, "web", "token", "list")
    old, month = listed.out.splitlines()
    assert "expired 1970-01-01" in old and "expires " not in old
    assert "expires " in month
    as_json = json.loads(run_cli(home, "web", "token", "list", "--json").out)
    assert [row["state"] for row in as_json] == ["expired", "live"]
    with sqlite3.connect(home / "swarm.db") as conn:
        assert (
            conn.execute("SELECT count(*) FROM web_tokens WHERE expires_at IS NULL").fetchone()[0]
            == 0
        )
