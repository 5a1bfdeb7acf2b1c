"""Who calls swarm's MCP tools, and the database they act on.

A tool never takes the caller's name as an argument (a model could write any name). On stdio
the caller is fixed when ``swarm mcp`` starts: ``SWARM_AGENT`` (checked against the agents
file) or ``SWARM_MCP_TOKEN`` (an agent's token, checked again at every call, so a revoked token
stops working). Over HTTP it is the agent of the request's bearer token, which
:class:`McpAuth` checks before the SDK sees the request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.mcp.limits import CallLimits, McpBusy
from core.agents import Resolver
from core.agents_file import load_agents
from core.context import find_agent
from core.errors import ConfigError, InvalidInput, NotFound
from core.settings import AGENT, MCP_TOKEN

if TYPE_CHECKING:
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
AGENT_KEY = "swarm.mcp.agent"  # the ASGI scope key McpAuth sets: the calling agent's id
NO_IDENTITY = (
    "swarm mcp needs to know which agent calls it: set SWARM_AGENT=Agent-3 or SWARM_MCP_TOKEN "
    "(an agent's token: swarm web token create --agent Agent-3)"
)
BAD_TOKEN = "SWARM_MCP_TOKEN is not a live agent token (swarm web token create --agent A)"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Backend(Protocol):
    """What a tool call needs: the service, and the agent calling."""

    async def service(self) -> SwarmService:
        """The service (raises the one-line error when the database cannot be opened)."""

    async def caller(self, request: Any) -> str:
        """The calling agent's id; ``request``: the HTTP request, None on stdio."""

    def waiting(self, agent: str) -> contextlib.AbstractContextManager[None]:
        """While ``agent`` waits for an answer in its call (McpBusy when it may not)."""


class StdioBackend:
    """``swarm mcp``: one agent, the database opened at the first call that needs it (and
    again at the next call when it could not be: the process stays up)."""

    def __init__(
        self,
        open_service: Callable[[], Awaitable[SwarmService]],
        agent: str | None,
        token: str | None,
    ) -> None:
        self.open_service = open_service
        self.agent = agent
        self.token = token
        self._service: SwarmService | None = None

    @classmethod
    def choose(
        cls,
        open_service: Callable[[], Awaitable[SwarmService]],
        env: Mapping[str, str],
        agents_file: Path,
    ) -> StdioBackend:
        """The caller from ``SWARM_AGENT`` / ``SWARM_MCP_TOKEN`` of ``env``; ConfigError (one
        line) for neither, or for an agent ``agents_file`` does not name. Started in an
        agent's terminal (``core.agents.identity``: its CLI starts this server), the caller is
        that agent, whatever ``env`` says: a ``SWARM_AGENT`` naming another is refused (a
        token of another agent is refused at its first call)."""

        agent, token = AGENT.read(env), MCP_TOKEN.read(env)
        try:
            agents = {a.id: a for a in load_agents(agents_file)}
        except ConfigError:
            if agent is not None:
                raise
            agents = {}  # a token's agent is checked at its first call
        placed = Resolver(env).place(os.getpid(), agents) if agents else None
        if placed is not None and placed.agent is not None:
            if agent is not None and agent.strip().lower() != placed.agent.lower():
                raise ConfigError(f"SWARM_AGENT: this server runs in {placed.agent}'s "
                                  f"terminal ({placed.how}), not {agent}'s")  # fmt: skip
            return cls(open_service, placed.agent, token)
        if agent is None and token is None:
            raise ConfigError(NO_IDENTITY)
        if agent is not None:
            try:
                agent = find_agent(agents, agent).id
            except NotFound as exc:
                raise ConfigError(f"SWARM_AGENT: {exc}") from None
        return cls(open_service, agent, token)

    async def service(self) -> SwarmService:
        """The service, opened now if it is not yet."""
        if self._service is None:
            self._service = await self.open_service()
        return self._service

    async def caller(self, request: Any = None) -> str:
        """The agent: ``SWARM_AGENT``, or the agent of ``SWARM_MCP_TOKEN`` (looked up now)."""
        if self.token is None:
            assert self.agent is not None
            return self.agent
        service = await self.service()
        found = await service.tokens.lookup(self.token)
        if found is None or found.agent is None:
            raise InvalidInput(BAD_TOKEN)
        if self.agent is not None and found.agent != self.agent:
            raise InvalidInput(
                f"SWARM_MCP_TOKEN is {found.agent}'s token but SWARM_AGENT is {self.agent}"
            )
        return configured(service, found.agent)

    def waiting(self, agent: str) -> contextlib.AbstractContextManager[None]:
        """No limit: a stdio client's wait holds nothing of the dashboard's."""
        return contextlib.nullcontext()

    async def check(self) -> None:
        """At start: a token that the database (when it opens) does not know is refused in
        one line; a database that cannot be opened is left for the tool calls to say."""
        if self.token is None:
            return
        try:
            await self.service()
        except Exception as exc:
            log.warning("swarm mcp: the database cannot be opened yet: %s", exc)
            return
        try:
            await self.caller()
        except InvalidInput as exc:
            raise ConfigError(str(exc)) from None

    async def close(self) -> None:
        """Close the database, if open."""
        if self._service is not None:
            await self._service.close()
            self._service = None


class WebBackend:
    """The dashboard's ``/mcp``: the dashboard's service; the agent :class:`McpAuth` found;
    the port's :class:`CallLimits`."""

    def __init__(self, service: SwarmService, limits: CallLimits) -> None:
        self._service = service
        self.limits = limits

    async def service(self) -> SwarmService:
        """The dashboard's service."""
        return self._service

    async def caller(self, request: Any) -> str:
        """The agent of the request's token (set by :class:`McpAuth`)."""
        scope = getattr(request, "scope", None) or {}
        agent = scope.get(AGENT_KEY)
        if not isinstance(agent, str):
            raise InvalidInput("no agent token on this request")
        return configured(self._service, agent)

    def waiting(self, agent: str) -> contextlib.AbstractContextManager[None]:
        """One of ``agent``'s waits for an answer (McpBusy beyond its limit)."""
        return self.limits.waiting(agent)


def configured(service: SwarmService, agent: str) -> str:
    """``agent`` when the agents file still names it: a token of an agent since removed acts
    as no one (else it would act as a person, who may report for any agent)."""
    if agent not in service.agents:
        raise InvalidInput(f"the token's agent {agent} is not in the agents file any more")
    return agent


class McpAuth:
    """ASGI: only a request with a live agent token reaches the MCP app (401 otherwise; 403
    for a dashboard token), and only within the agent's share of the port (429 beyond
    ``limits``); the token's agent goes into the scope for the tools."""

    def __init__(self, app: ASGIApp, service: SwarmService, limits: CallLimits) -> None:
        self.app = app
        self.service = service
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            await _refuse(
                send,
                401,
                "no token: send 'Authorization: Bearer <agent token>' "
                "(make one with: swarm web token create --agent A)",
            )
            return
        found = await self.service.tokens.lookup(token)
        if found is None:
            await _refuse(send, 401, "unknown, revoked or expired token")
            return
        if found.agent is None:
            await _refuse(
                send,
                403,
                f"token {found.name!r} is a dashboard token: /mcp needs an agent's token "
                "(swarm web token create --agent A)",
            )
            return
        scope[AGENT_KEY] = found.agent
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.limits.call(found.agent))
            except McpBusy as busy:
                log.info("/mcp: %s", busy)
                await _refuse_call(send, str(busy))
                return
            await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _refuse_call(send: Send, text: str) -> None:
    """429 with a JSON-RPC error (what an MCP client shows as the call's error) that closes
    the connection, so the refused call holds none."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": text}})
    data = (body + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (json.dumps({"error": text}) + "\n").encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="swarm"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
