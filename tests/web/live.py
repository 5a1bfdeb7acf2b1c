"""A dashboard served by uvicorn in a background thread (its own event loop), over a real
SWARM_HOME that a CLI in another process shares: for the browser tests and bench/web.py."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from bot.web.server import WebServer
from bot.web.settings import WebSettings
from core.access import _tokens as tokens
from core.service.swarm import SwarmService
from core.settings import Settings

START_TIMEOUT_S = 20.0

# the headless Chromium the browser tests and bench/web.py drive (Debian's, by Playwright)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class LiveDashboard:
    """``start()`` → base URL; ``admin_token``; ``call(fn)`` runs a coroutine on its loop."""

    def __init__(self, env: dict[str, str], poll_s: float | None = None) -> None:
        self.env = env
        self.poll_s = poll_s
        self.admin_token = tokens.new_token()
        self.port = free_port()
        self.service: SwarmService | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Serve in the background; the base URL once it answers."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"the dashboard did not start: {self._error}")
        return self.url

    def call(self, make: Callable[[SwarmService], Coroutine[Any, Any, Any]]) -> Any:
        """Run ``make(service)`` on the dashboard's loop and return its result."""
        assert self._loop is not None and self.service is not None
        return asyncio.run_coroutine_threadsafe(make(self.service), self._loop).result(60)

    def stop(self) -> None:
        """Stop serving and close the database."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT_S)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.service = await SwarmService.open(Settings.from_env(self.env))
        try:
            await self.service.store.update(
                tokens.create,
                self.admin_token,
                "browser",
                tokens.Role.admin,
                self.service.clock.now(),
            )
            server = WebServer(self.service, WebSettings(port=self.port), poll_s=self.poll_s)
            await server.start()
            self._ready.set()
            await self._stop.wait()
            await server.stop()
        finally:
            await self.service.close()


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
