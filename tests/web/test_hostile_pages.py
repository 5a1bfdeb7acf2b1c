"""Every dashboard page, walked with what agents and outsiders wrote in every field they
write: a task's title and body (an issue's), an agent's report, its question, its permission
prompt, its alert's words (its pane's), its transcript, an event's text. No page carries
their markup as markup, nor a link of a script's scheme; each shows their words escaped. The
pages are the routers' own GET routes, so a page added later is walked too (the real app,
the real service and store)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.routing import APIRoute

from bot.web import pages, transcript
from core.agents import alerts
from core.event_kinds import EventKind
from core.models import TaskSpec
from core.service.swarm import SwarmService
from core.store.conn import Conn
from core.store.tables import insert_event
from tests.agents.protocol_journal import AGENT, journal, record, started
from tests.inbox.test_inbox import open_prompt
from tests.web.test_pages import login

MARK = "<x-evil data-n=1>"  # markup of an agent's making, with a quote and an escape after
EVIL = MARK + "\"'\x1b[31m javascript:alert(1)"
TITLE = MARK + "\"' javascript:alert(1)"  # (a title is one line without control characters)
SHOWN = "&lt;x-evil data-n=1&gt;"
NOT_PAGES = {"/agents/{agent}/frame.png", "/login"}  # a picture; the page before any text
REFS = re.compile(r'data-ref="([A-Z]-\d+)"')  # each "Needs you" item on the inbox page


async def test_every_page_shows_what_agents_and_outsiders_wrote_escaped(
    client: httpx.AsyncClient, service: SwarmService, viewer_token: str
) -> None:
    task, delivery = await started(service)
    entries = journal(delivery)
    entries[3] = {**entries[3], "text": EVIL}
    await record(service, entries[:9])
    await _write_everywhere(service, task)
    await login(client, viewer_token)
    walked = []
    for path in _page_paths():
        for url in await _urls(client, path, task):
            page = await client.get(url)
            assert page.status_code == 200, (url, page.status_code)
            assert MARK not in page.text, url
            assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", page.text), url
            walked.append((url, SHOWN in page.text))
    shown = {url for url, escaped in walked if escaped}
    for url in ("/", f"/tasks/T-{task}", f"/agents/{AGENT}", "/activity", "/inbox"):
        assert url in shown, (url, walked)  # the words are there, escaped, not dropped
    assert any(url.startswith("/inbox/R-") for url in shown), walked
    assert any(url.startswith("/inbox/Q-") for url in shown), walked
    assert any(url.startswith("/inbox/A-") for url in shown), walked


async def _write_everywhere(service: SwarmService, task: int) -> None:
    """What an outsider and the agents write, in each field the pages show."""
    outsider = await service.tasks.create(TaskSpec(TITLE, details=TITLE, agent="Agent-2"), "github")
    await service.queue.assign_batch()
    await service.questions.ask(outsider.ref, TITLE, "Agent-2")
    await open_prompt(service, AGENT, EVIL)
    await service.store.write("watch", alerts.open_alert, "Agent-3", alerts.STALLED, EVIL)
    await service.store.write("watch", _event)
    await service.tasks.complete(f"T-{task}", AGENT, TITLE)


def _event(conn: Conn, ctx: Any) -> None:
    insert_event(conn, ctx.now, EventKind.TASK_NOTE, EVIL, agent=AGENT, actor=AGENT)


def _page_paths() -> list[str]:
    """The GET routes of the dashboard's page routers (not the JSON API's)."""
    found = []
    for router in (pages.router, transcript.router):
        for route in router.routes:
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
                continue
            if not route.path.startswith("/api/") and route.path not in NOT_PAGES:
                found.append(route.path)
    return found


async def _urls(client: httpx.AsyncClient, path: str, task: int) -> list[str]:
    """``path`` with its parameters filled: each task's ref, the agent, each inbox item,
    every event's row."""
    if path == "/activity/rows":
        return [path + "?after=0&upto=100000"]
    if "{ref}" in path and path.startswith("/inbox/"):
        panel = (await client.get("/inbox")).text
        return [path.replace("{ref}", ref) for ref in sorted(set(REFS.findall(panel)))]
    if "{ref}" in path:
        return [path.replace("{ref}", ref) for ref in (f"T-{task}", f"T-{task + 1}")]
    return [path.replace("{agent}", AGENT)]
