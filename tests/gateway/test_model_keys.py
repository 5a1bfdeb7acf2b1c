"""The model gateway puts the person's key on the wire in each vendor's header and drops the
agent's; the key never comes back to the agent, not in an error text, not quoted upstream."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from localmodel import LocalModel, Step

from automation.launch.gateway import ModelGateway, ModelRoute, Vendor
from tests.gateway.rig import PLACEHOLDER, REAL_KEYS, Rig, Upstream
from tests.gateway.wire import FORMATS, VENDOR_OF, request

KEY_HEADER = {Vendor.ANTHROPIC: ("x-api-key", "{}"),
              Vendor.OPENAI: ("authorization", "Bearer {}"),
              Vendor.GEMINI: ("x-goog-api-key", "{}")}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_real_key_upstream_the_placeholder_not(rig: Rig, fmt: str) -> None:
    vendor = VENDOR_OF[fmt]
    path, body, headers = request(fmt, "say hi", stream=False)
    async with rig.client(vendor).post(path, json=body, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        text = await answer.text()
    seen = rig.model.requests[-1]
    header, form = KEY_HEADER[vendor]
    assert seen.sent_secret(header, form.format(REAL_KEYS[vendor]))
    for name in ("authorization", "x-api-key", "x-goog-api-key", "?key"):
        assert not seen.sent_secret(name, PLACEHOLDER)
        assert not seen.sent_secret(name, f"Bearer {PLACEHOLDER}")
    assert set(seen.secrets) == {header}, "only the vendor's key header went upstream"
    assert "key" not in seen.query
    assert REAL_KEYS[vendor] not in text


async def test_an_error_quoting_the_key_comes_back_without_it(rig: Rig) -> None:
    key = REAL_KEYS[Vendor.ANTHROPIC]
    rig.model.queue(Step.fail(401, message=f"invalid x-api-key {key}"))
    path, body, headers = request("messages", "say hi", stream=False)
    async with rig.client(Vendor.ANTHROPIC).post(path, json=body, headers=headers) as answer:
        raw = await answer.read()
    assert answer.status == 401
    assert key.encode() not in raw and b"[redacted]" in raw
    assert key not in str(answer.headers)


async def test_upstream_down_is_a_502_without_the_key(model: LocalModel, sockets: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    async with Rig(model, sockets, upstream=f"http://127.0.0.1:{port}") as rig:
        path, body, headers = request("chat", "say hi", stream=False)
        async with rig.client(Vendor.OPENAI).post(path, json=body, headers=headers) as answer:
            text = await answer.text()
        assert answer.status == 502
        assert f"127.0.0.1:{port}" in text
        assert REAL_KEYS[Vendor.OPENAI] not in text
        await _until(lambda: len(rig.records) == 1)
        assert rig.records[0].usage is None and rig.records[0].status == 502


@pytest.mark.parametrize("path", ["/v1/../admin", "/v1/%2e%2e/admin", "/v1/%2E./admin", "/./v1"])
async def test_a_path_with_dot_segments_is_refused(rig: Rig, path: str) -> None:
    reader, writer = await asyncio.open_unix_connection(str(rig.routes[Vendor.ANTHROPIC].socket))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    line = await reader.readline()
    writer.close()
    assert b" 400 " in line
    assert rig.model.requests == []


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):  # the record comes once the answer has ended: 5 s at most
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_the_upstreams_path_comes_before_the_requests(
    model: LocalModel, sockets: Path
) -> None:
    """``OPENAI_BASE_URL=https://host/v1``: the agent's ``/responses`` goes to ``/v1/responses``."""
    async with Rig(model, sockets, upstream=model.openai_url) as rig:
        _, body, headers = request("responses", "say hi", stream=False)
        async with rig.client(Vendor.OPENAI).post(
            "/responses?key=x&trace=1", json=body, headers=headers
        ) as answer:
            assert answer.status == 200
    assert model.requests[-1].path == "/v1/responses"
    assert model.requests[-1].query == {"trace": "1"}


async def test_a_long_error_quoting_the_key_late_comes_back_without_it(
    model: LocalModel, sockets: Path
) -> None:
    key = REAL_KEYS[Vendor.GEMINI]
    raw = b"x" * 300_000 + f" key {key} refused".encode()

    def answer() -> web.Response:
        return web.Response(status=403, body=raw, content_type="application/json")

    async with Upstream(answer) as url, Rig(model, sockets, upstream=url) as rig:
        path, body, headers = request("gemini", "hi", stream=False)
        async with rig.client(Vendor.GEMINI).post(path, json=body, headers=headers) as got:
            back = await got.read()
    assert got.status == 403 and len(back) > 300_000
    assert key.encode() not in back and back.endswith(b" key [redacted] refused")


async def test_without_a_key_the_agents_own_login_passes(model: LocalModel, sockets: Path) -> None:
    """No key configured for the agent (its CLI's own login, kept in its sandbox): the
    gateway passes the agent's own credential on, as the only one there is; never a cookie."""
    route = ModelRoute("login", sockets / "login.sock", model.url, Vendor.ANTHROPIC, None)
    gateway = ModelGateway([route], lambda _: None)
    await gateway.start()
    try:
        connector = aiohttp.UnixConnector(path=str(route.socket))
        async with aiohttp.ClientSession(connector=connector, base_url="http://gateway") as c:
            path, body, headers = request("messages", "say hi", stream=False)
            login = {**headers, "Authorization": "Bearer its-own-oauth", "Cookie": "s=1"}
            async with c.post(path, json=body, headers=login) as answer:
                assert answer.status == 200, await answer.text()
    finally:
        await gateway.close()
    seen = model.requests[-1]
    assert seen.sent_secret("authorization", "Bearer its-own-oauth")
    assert "cookie" not in {name.lower() for name in (*seen.secrets, *seen.headers)}
