"""``POST /api/v1/github/webhook`` through the real app: the HMAC decides, a relevant
delivery is recorded for the GitHub loop, nothing of its body is stored."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from bot.web.app import create_app
from bot.web.settings import WebSettings
from core.github import webhook
from core.protocols import ManualClock
from core.service.swarm import SwarmService
from tests.helpers import query

SECRET = "It's a Secret to Everybody"


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_signed_deliveries_are_recorded_and_the_rest_refused(
    service: SwarmService,
) -> None:
    app = create_app(service, WebSettings(github_webhook_secret=SECRET))
    body = json.dumps({"action": "labeled", "issue": {"body": "@everyone rm -rf"}}).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:

        async def post(event: str, signature: str | None, data: bytes = body) -> httpx.Response:
            headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
            if signature is not None:
                headers["X-Hub-Signature-256"] = signature
            return await http.post("/api/v1/github/webhook", content=data, headers=headers)

        assert (await post("issues", None)).status_code == 401
        assert (await post("issues", _signed(body, "wrong"))).status_code == 401
        assert (await post("issues", _signed(body + b" "))).status_code == 401
        assert (await post("ping", _signed(body))).json() == {"result": "pong"}
        assert (await post("fork", _signed(body))).status_code == 202
        assert await service.store.read(webhook.latest) == 0  # an irrelevant event: nothing
        accepted = await post("issues", _signed(body))
        assert accepted.status_code == 202
    assert await service.store.read(webhook.latest) > 0
    stored = query(
        service.settings, "SELECT text, data FROM events WHERE kind = $1", (webhook.KIND,)
    )
    assert len(stored) == 1 and "everyone" not in str(stored)


def test_the_known_signature_of_githubs_documentation() -> None:
    # GitHub's docs: secret "It's a Secret to Everybody", payload "Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert webhook.signature_ok(SECRET, b"Hello, World!", expected)
    assert not webhook.signature_ok(SECRET, b"Hello, World?", expected)


async def test_the_webhook_is_off_without_a_secret(service: SwarmService) -> None:
    app = create_app(service, WebSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:
        answer = await http.post("/api/v1/github/webhook", content=b"{}")
    assert answer.status_code == 404 and "SWARM_GITHUB_WEBHOOK_SECRET" in answer.json()["error"]


async def test_a_signed_delivery_is_taken_once_and_its_replays_refused(
    service: SwarmService,
) -> None:
    app = create_app(service, WebSettings(github_webhook_secret=SECRET))
    body = json.dumps({"action": "opened", "issue": {"number": 1}}).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:

        async def post(delivery: str | None, data: bytes = body) -> httpx.Response:
            headers = {"X-GitHub-Event": "issues", "X-Hub-Signature-256": _signed(data)}
            if delivery is not None:
                headers["X-GitHub-Delivery"] = delivery
            return await http.post("/api/v1/github/webhook", content=data, headers=headers)

        assert (await post("d-1")).status_code == 202
        replays = [await post("d-1") for _ in range(20)]  # as captured
        replays += [await post(f"forged-{n}") for n in range(20)]  # a fresh id, the same body
        assert {r.status_code for r in replays} == {409}
        assert "a replay" in replays[0].json()["error"]
        assert (await post(None)).status_code == 400  # GitHub always names its delivery
        other = json.dumps({"action": "edited", "issue": {"number": 1}}).encode()
        assert (await post("d-2", other)).status_code == 202  # another event: taken
    stored = query(service.settings, "SELECT data FROM events WHERE kind = $1", (webhook.KIND,))
    assert len(stored) == 2


@pytest.mark.both_databases
async def test_deliveries_are_forgotten_after_the_window(
    service: SwarmService, clock: ManualClock
) -> None:
    assert await service.store.write("github", webhook.receive, "issues", "d-1", "abc")
    assert not await service.store.write("github", webhook.receive, "issues", "d-1", "abc")
    clock.advance(webhook.WINDOW_S + 1)
    assert await service.store.write("github", webhook.receive, "issues", "d-2", "def")
    kept = query(service.settings, "SELECT delivery FROM github_deliveries")
    assert kept == [("d-2",)]  # the old one pruned: the table stays bounded


async def test_look_now_wakes_the_loop_like_a_delivery(service: SwarmService) -> None:
    # /github import's call (GitHubBook.look_now): a github.webhook event the loop wakes on
    before = await service.store.read(webhook.latest)
    await service.github.look_now("Admin", "discord", "1234")
    assert await service.store.read(webhook.latest) > before
    (event,) = await service.history.last(1)
    assert (event.actor, event.text) == ("Admin", "GitHub webhook: discord")
