"""The gateway under test: one agent per vendor (``anthropic``, ``openai``, ``gemini``), each
with its socket, upstream localmodel and a real key; the usage records it gave; a client per
agent over its socket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import aiohttp
from aiohttp import web
from localmodel import LocalModel

from automation.launch.gateway import ModelGateway, ModelRoute, UsageRecord, Vendor

REAL_KEYS = {
    Vendor.ANTHROPIC: "sk-ant-real-0123456789abcdef",
    Vendor.OPENAI: "sk-proj-real-0123456789abcdef",
    Vendor.GEMINI: "AIza-real-0123456789abcdef",
}
PLACEHOLDER = "swarm-placeholder-key"  # what the agent holds inside


class Rig:
    """A started gateway and its records; ``client(vendor)`` speaks to that vendor's agent."""

    def __init__(self, model: LocalModel, sockets: Path, upstream: str | None = None) -> None:
        self.model = model
        self.records: list[UsageRecord] = []
        self.routes = {
            vendor: ModelRoute(vendor.value, sockets / f"{vendor.value}.sock",
                               upstream or model.url, vendor, key)
            for vendor, key in REAL_KEYS.items()
        }  # fmt: skip
        self.gateway = ModelGateway(list(self.routes.values()), self.records.append)
        self._sessions: list[aiohttp.ClientSession] = []

    async def __aenter__(self) -> Rig:
        await self.gateway.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for session in self._sessions:
            await session.close()
        await self.gateway.close()

    def client(self, vendor: Vendor) -> aiohttp.ClientSession:
        """A session whose requests go to ``vendor``'s agent's socket (``http://gateway/...``)."""
        connector = aiohttp.UnixConnector(path=str(self.routes[vendor].socket))
        session = aiohttp.ClientSession(connector=connector, base_url="http://gateway")
        self._sessions.append(session)
        return session


class Upstream:
    """A tiny upstream answering every request with ``answer()``."""

    def __init__(self, answer: Callable[[], web.Response]) -> None:
        self.answer = answer
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> str:
        async def handle(_: web.Request) -> web.Response:
            return self.answer()

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()
