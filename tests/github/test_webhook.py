"""``POST /api/v1/github/webhook`` through the real app: the HMAC decides, a relevant
delivery is recorded for the GitHub loop, nothing of its body is stored."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from bot.github import webhook
from bot.web.app import create_app
from bot.web.settings import WebSettings
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
        assert await service.read(webhook.latest) == 0  # an irrelevant event: nothing
        accepted = await post("issues", _signed(body))
        assert accepted.status_code == 202
    assert await service.read(webhook.latest) > 0
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
