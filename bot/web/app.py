"""The FastAPI application: REST API, dashboard pages, ``/metrics``, static files."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from bot.web import api, errors, pages
from bot.web.auth import require_viewer
from bot.web.context import WebContext, web_context
from bot.web.events import EventHub
from bot.web.guard import PortGuard
from bot.web.metrics import CONTENT_TYPE, Metrics
from bot.web.settings import WebSettings
from core.service.swarm import SwarmService
from core.store.web_tokens import Principal

if TYPE_CHECKING:
    from bot.mcp.server import HttpEndpoint

MCP_PATH = "/mcp"
MCP_MISSING = "the MCP endpoint needs the mcp package: pip install 'swarm[mcp]'"


def create_app(
    service: SwarmService,
    settings: WebSettings,
    metrics: Metrics | None = None,
    poll_s: float | None = None,
) -> FastAPI:
    """The application over ``service``; ``metrics`` observes the service when given."""
    hub = EventHub(service, **({"poll_s": poll_s} if poll_s is not None else {}))
    metrics = metrics or Metrics()
    endpoint = _mcp_endpoint(service)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with endpoint.running() if endpoint else contextlib.nullcontext():
                yield
        finally:
            await hub.stop()

    # no Swagger UI (it loads from a CDN): /api/docs is a page of ours, both need a token
    app = FastAPI(
        title="swarm",
        summary="Tasks, agents and events of one swarm",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.web = WebContext(service, settings, hub, metrics)
    errors.install(app)
    app.add_middleware(PortGuard, settings=settings)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_api_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    app.add_api_route("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False)
    if endpoint is not None:  # /mcp exactly: a Mount would answer only /mcp/ (SDK #1367)
        app.router.routes.append(Route(MCP_PATH, endpoint.app, methods=["GET", "POST", "DELETE"]))
    else:
        app.add_api_route(MCP_PATH, no_mcp, methods=["GET", "POST", "DELETE"])
    static = Path(str(files("bot.web").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app


def _mcp_endpoint(service: SwarmService) -> HttpEndpoint | None:
    """The MCP endpoint, or None when the ``mcp`` package is not installed."""
    try:
        from bot.mcp.server import HttpEndpoint
    except ImportError:
        return None
    return HttpEndpoint(service)


async def no_mcp() -> JSONResponse:
    """``/mcp`` without the MCP SDK: say how to get it."""
    return JSONResponse({"error": MCP_MISSING}, status_code=501)


async def scrape(request: Request) -> Response:
    """Prometheus text; a token is needed unless ``SWARM_WEB_METRICS`` opens it."""
    ctx = web_context(request)
    if not ctx.settings.metrics_open:
        await require_viewer(request)
    return Response(await ctx.metrics.render(ctx.service), media_type=CONTENT_TYPE)


async def openapi(
    request: Request, _: Annotated[Principal, Depends(require_viewer)]
) -> JSONResponse:
    """The OpenAPI description of ``/api/v1`` (a token is needed, like every read)."""
    return JSONResponse(request.app.openapi())
