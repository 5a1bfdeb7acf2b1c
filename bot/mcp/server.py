"""swarm's MCP server: :data:`bot.mcp.tools.TOOLS` over stdio (``swarm mcp``) or over the
streamable-HTTP transport on the dashboard's ``/mcp``.

Over HTTP the transport is stateless with JSON responses: each POST is one whole exchange,
authenticated by its own bearer token, so nothing is kept between requests and a client
carries on across a restart of ``swarm run``. ``bot/web/mcp_mount.py`` routes ``/mcp``
exactly on the dashboard's own router (a mounted sub-application answers ``/mcp/`` only: the
SDK's issue #1367) and runs the SDK's session manager while the dashboard runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult, TextContent
from pydantic import ValidationError

from bot.mcp.identity import Backend, StdioBackend, WebBackend
from bot.mcp.limits import CallLimits
from bot.mcp.tools import TOOLS
from core.formats.text import one_line
from core.version import swarm_version

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from core.service.swarm import SwarmService

INSTRUCTIONS = (
    "swarm coordinates a team of coding agents. Use these tools to read your task and report "
    "on it (report start when you begin, done or fail at the end)."
)


class SwarmMCP(MCPServer[Any]):
    """The SDK's server, whose failed tool calls say only what went wrong, in one line: the
    CLI's text (the SDK would put ``Error executing tool NAME:`` before it), or which
    arguments are wrong (pydantic's report spans lines)."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call the tool; a ToolError becomes the call's one-line error result."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                text = f"invalid arguments for {name}: {_fields(cause)}"
            elif isinstance(cause, ToolError):
                text = str(cause)
            else:
                text = str(exc)
            block = TextContent(type="text", text=one_line(text))
            return CallToolResult(content=[block], is_error=True)


def _fields(exc: ValidationError) -> str:
    """``action: Field required; wait_s: Input should be a valid integer``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc'])}: {err['msg']}" for err in exc.errors()
    )


def build(backend: Backend) -> MCPServer[Any]:
    """The server with every tool; the tools find ``backend`` in the lifespan context."""

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[Backend]:
        yield backend

    server = SwarmMCP(
        "swarm",
        instructions=INSTRUCTIONS,
        version=swarm_version(),
        lifespan=lifespan,
        log_level="WARNING",
    )
    for tool in TOOLS:
        server.add_tool(
            tool.fn, name=tool.name, description=tool.description, structured_output=False
        )
    return server


async def serve_stdio(backend: StdioBackend) -> None:
    """Serve on stdin/stdout until the client closes them."""
    try:
        await build(backend).run_stdio_async()
    finally:
        await backend.close()


class HttpEndpoint:
    """The ``/mcp`` endpoint of the dashboard: ``app`` (ASGI; the caller puts it behind
    :class:`bot.mcp.identity.McpAuth`) and ``running()``, the session manager's task group,
    entered while the dashboard runs (``bot/web/mcp_mount.py``)."""

    def __init__(self, service: SwarmService, limits: CallLimits) -> None:
        server = build(WebBackend(service, limits))
        # the dashboard's PortGuard checks the Host header; a bearer token is always needed
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        # makes the session manager; its Starlette app (a Route under its own lifespan) is
        # not used: the dashboard routes /mcp and runs the manager while it serves
        server.streamable_http_app(
            streamable_http_path="/mcp",  # unused: only its session manager is taken
            json_response=True,
            stateless_http=True,
            transport_security=security,
        )
        self.manager: StreamableHTTPSessionManager = server.session_manager
        self.app: ASGIApp = StreamableHTTPASGIApp(self.manager)  # behind McpAuth (bot/web)

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The session manager's task group (once per endpoint)."""
        return self.manager.run()
