"""``POST /api/v1/github/webhook``: GitHub's deliveries, authenticated by their HMAC
signature (no bearer token: GitHub cannot send one), each taken once (a replay: 409). The
logic is ``core.github.webhook``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.web.context import web_context
from core.github import webhook

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/github", tags=["github"])


@router.post("/webhook", include_in_schema=False)
async def github_webhook(request: Request) -> JSONResponse:
    """Check the signature; record a relevant delivery for the GitHub loop."""
    ctx = web_context(request)
    body = await request.body()
    headers = webhook.headers_of(request.headers)
    verdict = webhook.judge(ctx.settings.github_webhook_secret, body, headers)
    if verdict.record:
        delivery = headers.get("x-github-delivery", "")
        fresh = await ctx.service.github.receive(
            headers.get("x-github-event", ""), delivery, webhook.digest(body)
        )
        if not fresh:
            log.warning("GitHub webhook delivery %.80r refused: a replay", delivery)
            verdict = webhook.REPLAYED
    key = "error" if verdict.status >= 400 else "result"
    return JSONResponse({key: verdict.text}, status_code=verdict.status)
