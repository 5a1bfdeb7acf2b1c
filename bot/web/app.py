"""The FastAPI application: REST API, dashboard pages, ``/metrics``, static files."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from bot.web import api, errors, github_hook, pages, transcript
from bot.web.auth import require_viewer
from bot.web.context import WebContext, web_context
from bot.web.events import EventHub
from bot.web.guard import PortGuard
from bot.web.mcp_mount import PATH as MCP_PATH
from bot.web.mcp_mount import McpMount
from bot.web.metrics import CONTENT_TYPE, Metrics
from bot.web.settings import WebSettings
from core.access import Principal
from core.service.swarm import SwarmService


def create_app(
    service: SwarmService,
    settings: WebSettings,
    metrics: Metrics | None = None,
    poll_s: float | None = None,
) -> FastAPI:
    """The application over ``service``; ``metrics`` observes the service when given."""
    hub = EventHub(service, **({"poll_s": poll_s} if poll_s is not None else {}))
    metrics = metrics or Metrics()
    mcp = McpMount(service, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await mcp.stop()
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
    app.add_middleware(PortGuard, settings=settings, service=service)
    app.include_router(api.router)
    app.include_router(github_hook.router)
    app.include_router(pages.router)
    app.include_router(transcript.router)
    app.add_api_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    app.add_api_route("/api/openapi.json", openapi, methods=["GET"], include_in_schema=False)
    # /mcp itself, on this router: a mounted sub-application answers only /mcp/ (SDK #1367)
    app.router.routes.append(Route(MCP_PATH, mcp, methods=["GET", "POST", "DELETE"]))
    static = Path(str(files("bot.web").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app


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
