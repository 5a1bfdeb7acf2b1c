"""A protocol agent's transcript on the dashboard (issue 50, item 4), through the real app:
the agent's page shows its rows (the agent's words escaped) and its stream sends each row
written or changed after the page's rev, over a real server; a task's page keeps the rows of
its turns."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from core.agents._service import TranscriptBook
from core.service.swarm import SwarmService
from tests.agents.protocol_journal import AGENT, journal, record, started
from tests.web.conftest import bearer
from tests.web.test_pages import login
from tests.web.test_stream import streaming

pytestmark = [pytest.mark.both_databases, pytest.mark.timeout(90)]
EVIL = "<script>alert(1)</script>\x1b[31m"


def said(delivery: int) -> list[dict[str, Any]]:
    """The recorded turn, its first answer carrying markup and a terminal escape."""
    entries = journal(delivery)
    entries[3] = {**entries[3], "text": EVIL}
    return entries


async def test_the_agent_page_and_the_task_page_show_the_transcript_escaped(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    task, delivery = await started(service)
    await record(service, said(delivery)[:9])
    await login(client, viewer_token)
    page = await client.get(f"/agents/{AGENT}")
    assert page.status_code == 200
    body = page.text
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31mcreate x." in body
    assert "tool call touch x (pending)" in body
    assert "asks: touch x (answered allow)" in body
    rev = max(line.rev for line in await TranscriptBook(service.store).newest(AGENT))
    assert f'data-rev="{rev}"' in body
    task_page = (await client.get(f"/tasks/T-{task}")).text
    assert "<h2>Transcript</h2>" in task_page
    assert "prompt taken:\nCreate x then say done" in task_page  # its lines kept
    assert "<script>alert(1)" not in task_page
    agents = (await client.get("/agents")).text
    assert f'<a href="/agents/{AGENT}">{AGENT}</a>' in agents
    # its card shows its newest words where a window's frame would be (issue 79, item 8)
    card = agents.split(f'id="agent-{AGENT}"', 1)[1].split("</article>", 1)[0]
    assert "no frame yet" not in card and 'class="transcript card-lines"' in card
    assert "asks: touch x (answered allow)" in card and "<script>alert(1)" not in card


async def test_the_agents_stream_sends_each_row_changed_after_the_pages_rev(
    service: SwarmService, viewer_token: str
) -> None:
    _, delivery = await started(service)
    entries = said(delivery)
    await record(service, entries[:7])  # up to the tool call, pending
    rev = max(line.rev for line in await TranscriptBook(service.store).newest(AGENT))
    path = f"/api/v1/agents/{AGENT}/transcript/stream?after={rev}"
    async with streaming(service, viewer_token, path) as lines:
        assert await anext(lines) == "retry: 1000"

        async def until(kind: str) -> list[dict[str, Any]]:
            got = []
            async for line in lines:
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                    if got[-1]["kind"] == kind:
                        break
            return got

        await record(service, entries[7:8])  # the agent asks
        got = await asyncio.wait_for(until("permission"), 30)
        await record(service, entries[8:])  # answered, the tool call done, the turn's end
        got += await asyncio.wait_for(until("turn_end"), 30)
    assert [(g["kind"], g["line"]) for g in got] == [
        ("permission", "asks: touch x (waiting)"),
        ("permission", "asks: touch x (answered allow)"),  # the same row, changed
        ("tool", "tool call touch x (completed)"),
        ("message", "says: Done.\\x1b[2J"),
        ("turn_end", "turn ended (end_turn)"),
    ]
    assert got[0]["id"] == got[1]["id"]
    assert all(g["rev"] > rev for g in got)
    assert got[3]["shown"] == "Done.\\x1b[2J"  # the page sets it as text


async def test_the_transcript_api_reads_after_a_rev(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    _, delivery = await started(service)
    await record(service, said(delivery))
    answer = await client.get(f"/api/v1/agents/{AGENT}/transcript", headers=bearer(viewer_token))
    assert answer.status_code == 200
    first = answer.json()
    assert first["lines"][0]["line"] == "prompt taken: Create x then say done"
    again = await client.get(
        f"/api/v1/agents/{AGENT}/transcript?after={first['rev']}", headers=bearer(viewer_token)
    )
    assert again.json() == {"lines": [], "rev": first["rev"]}
    bare = await client.get(f"/api/v1/agents/{AGENT}/transcript")
    assert bare.status_code == 401
