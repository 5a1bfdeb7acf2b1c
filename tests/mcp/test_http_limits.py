"""One agent's token cannot take the dashboard: through uvicorn on a free port, an agent's
``/mcp`` calls in progress, its ``ask_human`` waits and all agents' calls together are
capped, each refusal a line the MCP client shows, and a person still gets in (issue 40,
item 10). SQLite: the limits are the port's, not the store's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
from mcp.shared.exceptions import MCPError

from bot.web.server import running
from bot.web.settings import WebSettings
from core.service.swarm import SwarmService
from tests.helpers import query
from tests.mcp.conftest import error, given, text
from tests.mcp.test_http import ACCEPT, agent_token, http_session
from tests.web.conftest import bearer, make_token
from tests.web.live import free_port


def ask(number: int, wait_s: int = 600) -> dict[str, object]:
    """A JSON-RPC ``tools/call`` of ``ask_human`` that waits ``wait_s`` for the answer."""
    arguments = {"question": f"Which database, {number}?", "wait_s": wait_s}
    return {
        "jsonrpc": "2.0",
        "id": number,
        "method": "tools/call",
        "params": {"name": "ask_human", "arguments": arguments},
    }


def asked(service: SwarmService) -> int:
    """Questions stored (each waiting call asked one)."""
    return int(query(service.settings, "SELECT count(*) FROM questions")[0][0])


def waiting(sent: list[asyncio.Task[httpx.Response]]) -> int:
    """Calls not answered yet."""
    return sum(not call.done() for call in sent)


async def until(check: Callable[[], bool], within: float = 30) -> None:
    """Wait until ``check()`` is true (TimeoutError after ``within`` seconds)."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 (polls the store and the calls)
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def calls(
    url: str, token: str, count: int, first: int = 0
) -> AsyncIterator[list[asyncio.Task[httpx.Response]]]:
    """``count`` waiting ``ask_human`` calls with ``token``, each on its own connection, sent
    5 at a time 0.2 s apart (a refused call has closed its connection before the next are
    sent); cancelled at the end if still waiting."""
    limits = httpx.Limits(max_connections=count + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        sent: list[asyncio.Task[httpx.Response]] = []
        for n in range(count):
            call = http.post("/mcp", json=ask(first + n), headers=ACCEPT | bearer(token))
            sent.append(asyncio.create_task(call))
            if n % 5 == 4:
                await asyncio.sleep(0.2)
        try:
            yield sent
        finally:
            for task in sent:
                task.cancel()
            await asyncio.gather(*sent, return_exceptions=True)


async def refused(url: str, token: str) -> str:
    """The error the SDK's client raises when its session cannot start."""
    try:
        async with http_session(url, token):
            pass
    except BaseExceptionGroup as group:
        errors = list(_leaves(group))
    else:
        raise AssertionError("the session started")
    assert len(errors) == 1 and isinstance(errors[0], MCPError), errors
    return str(errors[0])


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


async def answer_all(service: SwarmService, ref: str) -> None:
    """Answer every open question of the task (each waiting call then returns)."""
    while await service.questions.open_question(ref) is not None:
        await service.questions.reply(ref, "PostgreSQL", "boss")


async def test_one_agents_waiting_calls_leave_the_dashboard_to_the_admin(
    live: SwarmService,
) -> None:
    """The attack as tried, on a port of 20 connections: 30 waiting ``ask_human`` calls of
    one token. Before: 20 of them held every connection and the admin got 503."""
    ref = await given(live, "Agent-1", "Pick a database")
    token, admin = await agent_token(live, "Agent-1"), await make_token(live, "admin", "me")
    async with running(live, WebSettings(port=free_port(), max_connections=20)) as server:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}"
        async with calls(url, token, 30) as sent:
            with contextlib.suppress(TimeoutError):
                await until(lambda: waiting(sent) == 2, within=10)
            async with httpx.AsyncClient(base_url=url, timeout=10) as person:
                page = await person.get("/api/v1/tasks", headers=bearer(admin))
            assert page.status_code == 200, page.text
            assert waiting(sent) == 2
            assert asked(live) == 2  # the two waits the agent may have
            refused = [c.result() for c in sent if c.done()]
            said = {_refusal(r) for r in refused}
            assert said <= {"SWARM_MCP_MAX_CALLS", "SWARM_MCP_MAX_WAITS"}, said
            await answer_all(live, ref)
            await until(lambda: waiting(sent) == 0)
        answers = [text_of(c.result()) for c in sent if c.result().status_code == 200]
        assert answers.count("answer from boss: PostgreSQL") == 2


async def test_the_client_sees_each_limit_in_one_line(live: SwarmService) -> None:
    ref = await given(live, "Agent-1", "Pick a database")
    ref_two = await given(live, "Agent-2", "Pick a queue")
    one, two = await agent_token(live, "Agent-1"), await agent_token(live, "Agent-2")
    web = WebSettings(port=free_port(), max_connections=8, mcp_calls=3, mcp_waits=2)
    async with running(live, web) as server:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}"
        async with calls(url, one, 2) as sent:
            await until(lambda: asked(live) == 2)
            async with http_session(f"{url}/mcp", one) as mcp:  # a third call: within 3
                said = error(await mcp.call_tool("ask_human", {"question": "Why?", "wait_s": 9}))
                assert said.startswith("Agent-1 already waits for 2 answers, the most one agent")
                assert "nothing asked; ask with wait_s=0" in said
                assert asked(live) == 2
                quick = text(await mcp.call_tool("ask_human", {"question": "And then?"}))
                assert quick.startswith(f"{ref}: question 3 asked")
            # Agent-2 waits too: the 4 calls the agents may hold (half of 8 connections)
            async with calls(url, two, 2, first=10) as theirs:
                await until(lambda: asked(live) == 5)
                said = await refused(f"{url}/mcp", two)
                assert "the agents have 4 calls to /mcp in progress" in said, said
                assert "\n" not in said
                await answer_all(live, ref_two)
                await until(lambda: waiting(theirs) == 0)
            await answer_all(live, ref)
            await until(lambda: waiting(sent) == 0)
    web = WebSettings(port=free_port(), mcp_calls=2, mcp_waits=5)
    async with running(live, web) as server:
        assert server is not None
        url = f"http://127.0.0.1:{server.port}"
        async with calls(url, one, 2, first=20) as sent:
            await until(lambda: asked(live) == 7)
            said = await refused(f"{url}/mcp", one)
            assert said.startswith("Agent-1 has 2 calls to /mcp in progress, the most one agent")
            await answer_all(live, ref)
            await until(lambda: waiting(sent) == 0)


def _refusal(response: httpx.Response) -> str:
    """Which limit refused the call (the setting its text names)."""
    rpc = response.status_code == 429
    said = response.json()["error"]["message"] if rpc else text_of(response)
    assert "\n" not in said
    return "SWARM_MCP_MAX_CALLS" if "SWARM_MCP_MAX_CALLS" in said else said.split("(")[1][:19]


def text_of(response: httpx.Response) -> str:
    """The text of a ``tools/call``'s JSON-RPC result."""
    result = response.json()["result"]
    return str(result["content"][0]["text"])
