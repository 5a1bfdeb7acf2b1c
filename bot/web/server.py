"""The dashboard's HTTP server: uvicorn inside the running event loop (``swarm run``,
``swarm web``), on a socket bound here so that a busy port is a one-line error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn

from bot.web.app import create_app
from bot.web.connections import (
    Connections,
    accept_burst,
    anonymous_share,
    connection_cap,
    guarded_protocol,
)
from bot.web.metrics import Metrics
from bot.web.settings import WebSettings
from core.errors import ConfigError
from core.service.swarm import SwarmService
from core.waits import Background

log = logging.getLogger(__name__)
START_TIMEOUT_S = 10.0


class _EmbeddedServer(uvicorn.Server):
    """uvicorn that leaves the signals to the coordinator (it stops through ``should_exit``)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """One running dashboard: ``start`` binds and serves, ``stop`` ends every stream."""

    def __init__(
        self,
        service: SwarmService,
        settings: WebSettings,
        metrics: Metrics | None = None,
        poll_s: float | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self._sock = sock  # bound earlier (``swarm run`` binds before it waits for its lock)
        self.app = create_app(service, settings, metrics, poll_s)
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._serving = Background("dashboard")
        self.port = settings.port
        self.connections: Connections | None = None  # the port's connections, once started

    async def start(self) -> None:
        """Refuse an open address without tokens, bind, serve until ``stop``."""
        await check_access(self.service, self.settings)
        sock = self._sock or bind(self.settings.host, self.settings.port)
        self.port = sock.getsockname()[1]
        cap = connection_cap(self.settings)
        self.connections = Connections(cap, anonymous_share(cap))
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            log_level="warning",
            http=guarded_protocol(self.settings, self.connections),
            ws="none",
            backlog=accept_burst(cap),
            timeout_keep_alive=max(1, round(self.settings.idle_timeout)),
            h11_max_incomplete_event_size=64 * 1024,
        )
        self._server = _EmbeddedServer(config)
        serving = self._server.serve(sockets=[sock])
        self._task = self._serving.start(serving, name="web", awaited=True)
        async with asyncio.timeout(START_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    raise ConfigError("the dashboard stopped while starting")
                await asyncio.sleep(0.01)
        log.info(
            "dashboard on %s",
            self.settings.url.replace(f":{self.settings.port}/", f":{self.port}/"),
        )

    async def stop(self) -> None:
        """End the live streams, then the server."""
        await self.app.state.web.hub.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@contextlib.asynccontextmanager
async def running(
    service: SwarmService,
    settings: WebSettings,
    metrics: Metrics | None = None,
    sock: socket.socket | None = None,
) -> AsyncIterator[WebServer | None]:
    """The dashboard while the block runs (None when ``SWARM_WEB`` turns it off), on
    ``sock`` when it was bound already."""
    if not settings.enabled:
        yield None
        return
    metrics = metrics or Metrics()
    service.observers.append(metrics)
    server = WebServer(service, settings, metrics, sock=sock)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        service.observers.remove(metrics)


async def check_access(service: SwarmService, settings: WebSettings) -> None:
    """ConfigError when bound beyond localhost while no token exists."""
    if settings.local:
        return
    if not await service.tokens.any_live():
        raise ConfigError(
            f"SWARM_WEB_HOST={settings.host} opens the dashboard beyond this machine and no "
            "web token exists: create one first (swarm web token create --role admin) or "
            "keep SWARM_WEB_HOST=127.0.0.1"
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ConfigError naming the address otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"SWARM_WEB_HOST={host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} for the dashboard: {exc.strerror} "
            "(set SWARM_WEB_PORT, or SWARM_WEB=off)"
        ) from None
    sock.setblocking(False)
    return sock
