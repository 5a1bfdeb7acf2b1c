"""The dashboard's ``/mcp``: swarm's MCP endpoint (:mod:`bot.mcp.server`) behind the agent
token check (:class:`bot.mcp.identity.McpAuth`).

The endpoint is built at the first request with an agent's token, so the MCP SDK is imported
only when an agent uses it (``swarm run`` and ``swarm web`` start without it); its session
manager then runs in a task of the dashboard until the dashboard stops. Without the ``mcp``
package the route answers 501 with the line to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from bot.mcp.identity import McpAuth
from bot.mcp.limits import CallLimits
from bot.web.connections import port_share
from core.waits import Background

if TYPE_CHECKING:
    from bot.mcp.server import HttpEndpoint
    from bot.web.settings import WebSettings
    from core.service.swarm import SwarmService

log = logging.getLogger(__name__)
PATH = "/mcp"
MISSING = "the MCP endpoint needs the mcp package: pip install 'swarm[mcp]'"


class McpMount:
    """ASGI app of the ``/mcp`` route; ``stop()`` in the dashboard's lifespan."""

    def __init__(self, service: SwarmService, settings: WebSettings) -> None:
        self.service = service
        self.limits = CallLimits(settings.mcp_calls, settings.mcp_waits, port_share(settings))
        self._auth = McpAuth(self._serve, service, self.limits)
        self._endpoint: HttpEndpoint | None = None
        self._missing = False
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = Background("/mcp")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._auth(scope, receive, send)

    async def _serve(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint = await self._started()
        if endpoint is None:
            await JSONResponse({"error": MISSING}, status_code=501)(scope, receive, send)
            return
        await endpoint.app(scope, receive, send)

    async def _started(self) -> HttpEndpoint | None:
        """The running endpoint, built and started at the first call (None: no SDK)."""
        async with self._lock:
            if self._endpoint is None and not self._missing:
                try:
                    from bot.mcp.server import HttpEndpoint
                except ImportError as exc:
                    log.warning("/mcp: %s (%s)", MISSING, exc)
                    self._missing = True
                    return None
                endpoint = HttpEndpoint(self.service, self.limits)
                started = asyncio.Event()
                running = self._run(endpoint, started)
                self._task = self._running.start(running, name="mcp", awaited=True)
                await started.wait()
                self._endpoint = endpoint
        return self._endpoint

    async def _run(self, endpoint: HttpEndpoint, started: asyncio.Event) -> None:
        async with endpoint.running():
            started.set()
            await self._stop.wait()

    async def stop(self) -> None:
        """End the session manager (and every request it still serves)."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
