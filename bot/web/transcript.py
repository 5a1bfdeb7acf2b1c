"""A protocol agent's page and its live transcript (``core.agents.transcript``): the newest
rows rendered on the server, then each row written or changed after them as a server-sent
event (``event: transcript``, ``id:`` its rev, so ``Last-Event-ID`` resumes), read by one
small query of the agent's rows every ``POLL_S`` while the page is open.

The agent's words are escaped where they are shown: Jinja's autoescape on the page, the
browser's ``textContent`` for the streamed rows (never ``innerHTML``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from automation.turn_stop import can_stop
from bot.web.auth import presented_token, principal_of, require_viewer
from bot.web.context import web_context
from bot.web.events import HEARTBEAT_S, RECHECK_S, REVOKED
from bot.web.pages import Page, render
from core.access import Principal
from core.agents import PAGE, Line, TranscriptBook
from core.coordinator import watched
from core.formats.jsonshape import shaped

POLL_S = 0.5
MAX_REV = 2**63 - 1
router = APIRouter()
Viewer = Annotated[Principal, Depends(require_viewer)]
Rev = Annotated[int, Query(ge=0, le=MAX_REV)]


@router.get("/agents/{agent}", include_in_schema=False)
async def agent_page(request: Request, agent: str, who: Page) -> HTMLResponse:
    """One agent: its state and, for a protocol agent, its transcript, kept live."""
    ctx = web_context(request)
    found = ctx.service.resolve_agent(agent)
    rows = await watched.agent_rows(ctx.service)  # no coordinator: its state as last seen
    row = next((r for r in rows if r["id"] == found.id), {})
    lines = await ctx.service.transcripts.newest(found.id)
    return await render(
        request, "agent.html", who, agent=found, row=row, lines=lines,
        rev=max((line.rev for line in lines), default=0), now=ctx.service.clock.now(),
        stoppable=can_stop(found),
    )  # fmt: skip


@router.get("/api/v1/agents/{agent}/transcript", tags=["swarm"])
async def transcript(request: Request, agent: str, _: Viewer, after: Rev = 0) -> dict[str, Any]:
    """The agent's transcript rows written or changed after rev ``after``, in that order
    (a tool call's row comes again as its status changes); ``rev`` is the next cursor."""
    service = web_context(request).service
    lines = await service.transcripts.after(service.resolve_agent(agent).id, after)
    return shaped({"lines": [line.to_json() for line in lines],
                   "rev": lines[-1].rev if lines else after})  # fmt: skip


@router.get("/api/v1/agents/{agent}/transcript/stream", tags=["swarm"])
async def transcript_stream(
    request: Request, agent: str, _: Viewer, after: Rev = 0
) -> StreamingResponse:
    """Server-sent events: each transcript row written or changed after ``after`` (or
    ``Last-Event-ID``), then live ones."""
    last = request.headers.get("last-event-id", "")
    start = int(last) if last.isdigit() and len(last) < 19 else after
    ctx = web_context(request)
    token = presented_token(request)[0]
    book = ctx.service.transcripts

    async def allowed() -> bool:  # a revoked or expired token ends the stream
        return token is not None and await principal_of(ctx, token) is not None

    return StreamingResponse(
        lines_stream(book, ctx.service.resolve_agent(agent).id, start, allowed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def lines_stream(
    book: TranscriptBook,
    agent: str,
    after: int,
    allowed: Callable[[], Awaitable[bool]],
    poll_s: float = POLL_S,
) -> AsyncIterator[str]:
    """The text of the stream: the rows after ``after``, a page at a time, then every
    ``poll_s`` the new ones; a keep-alive when quiet; ends when the token stops working."""
    yield "retry: 1000\n\n"
    checked = written = time.monotonic()
    while True:
        lines = await book.after(agent, after)
        now = time.monotonic()
        if now - checked >= RECHECK_S:
            if not await allowed():
                yield REVOKED
                return
            checked = now
        if lines:
            yield "".join(sse_line(line) for line in lines)
            after, written = lines[-1].rev, now
            if len(lines) >= PAGE:
                continue  # more may be behind a full page
        elif now - written >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            written = now
        await asyncio.sleep(poll_s)


def sse_line(line: Line) -> str:
    """One row as a server-sent event."""
    body = json.dumps(shaped(line.to_json()), ensure_ascii=False)
    return f"id: {line.rev}\nevent: transcript\ndata: {body}\n\n"
