"""The server's wire protocol checked with plain aiohttp, independent of discord.py."""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

import aiohttp
import pytest
from localdiscord import LocalDiscordServer, SnowflakeGenerator, snowflake_time

PING = {"name": "ping", "description": "Answer pong", "type": 1}


def test_snowflakes_are_unique_increasing_and_dated() -> None:
    generator = SnowflakeGenerator()
    ids = [generator.next() for _ in range(10_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert abs(snowflake_time(ids[-1]).timestamp() - time.time()) < 5


@pytest.fixture
async def http(server: LocalDiscordServer) -> Any:
    headers = {"Authorization": f"Bot {server.token}"}
    async with aiohttp.ClientSession(base_url=server.url, headers=headers) as session:
        yield session


async def test_json_content_type_is_exact(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v10/gateway/bot") as response:
        assert response.headers["Content-Type"] == "application/json"
        body = await response.json()
    assert body["shards"] == 1 and body["url"].startswith("ws://127.0.0.1:")


async def test_errors_have_discords_shape(
    server: LocalDiscordServer, http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/v10/no/such/route") as response:
        assert (response.status, await response.json()) == (
            404,
            {"code": 0, "message": "404: Not Found"},
        )
    async with http.get("/api/v10/channels/1") as response:
        assert (response.status, (await response.json())["code"]) == (404, 10003)
    channel = server.guild.channels[0].id
    async with http.post(f"/api/v10/channels/{channel}/messages", json={}) as response:
        assert (response.status, (await response.json())["code"]) == (400, 50006)
    async with (
        aiohttp.ClientSession(base_url=server.url) as anonymous,
        anonymous.get("/api/v10/users/@me") as response,
    ):
        assert response.status == 401


async def test_command_definitions_are_validated(
    server: LocalDiscordServer, http: aiohttp.ClientSession
) -> None:
    path = f"/api/v10/applications/{server.application_id}/commands"
    async with http.put(path, json=[{"name": "Bad Name", "description": ""}]) as response:
        body = await response.json()
    assert response.status == 400 and body["code"] == 50035
    assert set(body["errors"]["0"]) == {"name", "description"}
    async with http.put(path, json=[PING]) as response:
        (stored,) = await response.json()
    async with http.put(path, json=[PING]) as response:
        (again,) = await response.json()
    assert stored["id"] == again["id"] and stored["version"] != again["version"]


class RawGateway:
    """A minimal gateway client speaking zlib-stream."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._inflate = zlib.decompressobj()

    async def receive(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.BINARY, message
        return json.loads(self._inflate.decompress(message.data))

    async def send(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data}))


async def test_raw_gateway_session(server: LocalDiscordServer, http: aiohttp.ClientSession) -> None:
    url = f"{server.gateway_url}?v=10&encoding=json&compress=zlib-stream"
    async with http.ws_connect(url) as ws:
        gateway = RawGateway(ws)
        hello = await gateway.receive()
        assert (hello["op"], hello["d"]["heartbeat_interval"]) == (10, 500)
        await gateway.send(1, None)
        assert (await gateway.receive())["op"] == 11
        await gateway.send(2, {"token": server.token, "intents": 0, "properties": {}})
        ready, guild = await gateway.receive(), await gateway.receive()
        assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
        assert ready["d"]["guilds"] == [{"id": str(server.guild.id), "unavailable": True}]
        names = [m["user"]["username"] for m in guild["d"]["members"]]
        assert names == ["swarm-bot", "alice", "bob"]
        await _answer_twice(server, http, gateway)


async def _answer_twice(
    server: LocalDiscordServer, http: aiohttp.ClientSession, gateway: RawGateway
) -> None:
    path = f"/api/v10/applications/{server.application_id}/guilds/{server.guild.id}/commands"
    async with http.put(path, json=[PING]) as response:
        assert response.status == 200
    handle = await server.invoke_slash(server.guild.users[1], "ping")
    event = await gateway.receive()
    assert event["t"] == "INTERACTION_CREATE" and event["d"]["token"] == handle.token
    callback = f"/api/v10/interactions/{handle.id}/{handle.token}/callback"
    answer = {"type": 4, "data": {"content": "pong"}}
    async with http.post(callback, json=answer) as response:
        assert response.status == 204
    async with http.post(callback, json=answer) as response:
        assert (response.status, (await response.json())["code"]) == (400, 40060)
    assert (await handle.wait_callback()).data == {"content": "pong"}


async def test_gateway_refusals(server: LocalDiscordServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(server.gateway_url) as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["op"] == 10
            await ws.send_str(json.dumps({"op": 2, "d": {"token": "wrong"}}))
            closing = await ws.receive(timeout=5)
            assert (closing.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, 4004)
        async with session.ws_connect(server.gateway_url) as ws:
            await ws.receive(timeout=5)
            resume = {"token": server.token, "session_id": "nope", "seq": 3}
            await ws.send_str(json.dumps({"op": 6, "d": resume}))
            invalid = json.loads((await ws.receive(timeout=5)).data)
            assert (invalid["op"], invalid["d"]) == (9, False)
            await ws.send_str("{not json")
            assert (await ws.receive(timeout=5)).type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4002
