"""The dashboard's ``/mcp`` (streamable HTTP) through uvicorn on a free port, driven by the
SDK's own client: the agent is the bearer token's, a wrong or missing token is refused, and
an agent's token opens nothing else.

The tools, which write through the service, run on SQLite and PostgreSQL; the refusals, which
never reach the store past a token lookup, on SQLite."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from importlib import metadata

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bot.web.app import create_app
from bot.web.server import running
from bot.web.settings import WebSettings
from core.access import _tokens as tokens
from core.service.swarm import SwarmService
from tests.mcp.conftest import error, given, text
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


async def agent_token(service: SwarmService, agent: str) -> str:
    """A new agent token for ``agent``."""
    token = tokens.new_token()
    now = service.clock.now()
    await service.store.update(tokens.create, token, agent, tokens.Role.agent, now, None, agent)
    return token


@contextlib.asynccontextmanager
async def http_session(url: str, token: str) -> AsyncIterator[ClientSession]:
    """The SDK's client on ``url`` with ``token`` as its bearer."""
    async with (
        httpx2.AsyncClient(headers=bearer(token)) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@pytest.mark.both_databases
async def test_tools_over_http_act_as_the_tokens_agent(live: SwarmService) -> None:
    mine = await given(live, "Agent-1", "Write the parser", "Parse agents.toml")
    theirs = await given(live, "Agent-3", "Draw the logo")
    one, three = await agent_token(live, "Agent-1"), await agent_token(live, "Agent-3")
    async with running(live, WebSettings(port=free_port())) as server:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}/mcp"
        async with http_session(url, one) as mcp:
            assert len((await mcp.list_tools()).tools) <= 10
            assert text(await mcp.call_tool("my_task", {})).startswith(f"{mine} [assigned")
            started = await mcp.call_tool("report", {"action": "start"})
            assert text(started).startswith(f"{mine} [in_progress")
            assert text(await mcp.call_tool("handoff_note", {"text": "half done"})) == (
                f"note added to {mine}"
            )
            asked = text(await mcp.call_tool("ask_human", {"question": "Strict?"}))
            assert asked.startswith(f"{mine}: question 1 asked")
            sent = text(await mcp.call_tool("message", {"to": "captain", "text": "hi"}))
            assert sent.endswith("queued for Agent-4")
            refused = error(await mcp.call_tool("report", {"action": "done", "task": theirs}))
            assert refused.startswith(f"{theirs} is held by Agent-3, not Agent-1")
        async with http_session(url, three) as mcp:
            assert text(await mcp.call_tool("my_task", {})).startswith(f"{theirs} [assigned")
            done = await mcp.call_tool("report", {"action": "done", "note": "logo.svg"})
            assert text(done).startswith(f"{theirs} [done")
        ghost = await agent_token(live, "Agent-99")  # an agent no longer in the agents file
        async with http_session(url, ghost) as mcp:  # acts as no one (not as a person)
            said = error(await mcp.call_tool("report", {"action": "done", "task": mine}))
            assert said == "the token's agent Agent-99 is not in the agents file any more"
    events = await live.history.events(limit=100)
    by = {(e.kind, e.task_id): e.actor for e in events}
    assert by[("task.started", int(mine[2:]))] == "Agent-1"
    assert by[("task.done", int(theirs[2:]))] == "Agent-3"


async def test_a_wrong_token_is_refused_and_an_agent_token_opens_only_mcp(
    live: SwarmService,
) -> None:
    token = await agent_token(live, "Agent-2")
    admin = await make_token(live, "admin", "laptop")
    async with (
        running(live, WebSettings(port=free_port())) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http,  # type: ignore[union-attr]
    ):
        for headers, status in (
            ({}, 401),
            (bearer("swt_wrong"), 401),
            (bearer(admin), 403),  # a dashboard token is no agent
        ):
            refused = await http.post("/mcp", json=INITIALIZE, headers=ACCEPT | headers)
            assert refused.status_code == status
            assert "\n" not in refused.json()["error"]
        answered = await http.post("/mcp", json=INITIALIZE, headers=ACCEPT | bearer(token))
        assert answered.status_code == 200, answered.text  # /mcp itself: no redirect to /mcp/
        info = answered.json()["result"]["serverInfo"]
        assert (info["name"], info["version"]) == ("swarm", metadata.version("swarm"))  # swarm's
        api = await http.get("/api/v1/tasks", headers=bearer(token))
        assert api.status_code == 403 and "opens only /mcp" in api.json()["error"]
        page = await http.get("/", headers={"Cookie": f"swarm_token={token}"})
        assert page.status_code in (302, 303, 307) and "/login" in page.headers["location"]


async def test_without_the_mcp_package_mcp_says_how_to_get_it(
    live: SwarmService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "bot.mcp.server", None)  # as if mcp were not installed
    token = await agent_token(live, "Agent-2")
    app = create_app(live, WebSettings())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as http,
    ):
        refused = await http.post("/mcp", json=INITIALIZE, headers=ACCEPT | bearer(token))
    assert refused.status_code == 501
    said = "the MCP endpoint needs the mcp package: pip install 'swarm[mcp]'"
    assert refused.json() == {"error": said}
