"""The gateway websocket: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, drops."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from localdiscord.payloads import guild_create_payload, member_payload, ready_payload
from localdiscord.world import World

log = logging.getLogger(__name__)
Json = dict[str, Any]

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
CLOSE_DECODE_ERROR, CLOSE_AUTH_FAILED, CLOSE_ALREADY_AUTHENTICATED = 4002, 4004, 4005
REPLAY_BUFFER = 1000


class GatewayConnection:
    """One websocket; sends JSON as text or as one zlib stream (``compress=zlib-stream``)."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compress: bool) -> None:
        self.ws = ws
        self.request = request
        self.session: GatewaySession | None = None
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    async def send(self, payload: Json) -> None:
        """Send one payload; raises ConnectionError if the socket is gone."""
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                raise ConnectionResetError("gateway websocket is closed")
            if self._zlib is None:
                await self.ws.send_str(text)
            else:
                chunk = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(chunk)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (a network failure)."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass
class GatewaySession:
    """A gateway session: sequence numbers and a replay buffer that survive reconnects."""

    id: str
    intents: int
    seq: int = 0
    valid: bool = True
    connection: GatewayConnection | None = None
    buffer: deque[Json] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def dispatch(self, event: str, data: Json) -> None:
        """Number, buffer and (if connected) send a DISPATCH; kept for RESUME if not sent."""
        async with self.lock:
            self.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
            self.buffer.append(payload)
            await self._send_locked(payload)

    async def attach(self, connection: GatewayConnection, last_seen: int) -> None:
        """Resume on ``connection``: replay every buffered event after ``last_seen``."""
        async with self.lock:
            self.connection = connection
            connection.session = self
            for payload in list(self.buffer):
                if payload["s"] > last_seen:
                    await self._send_locked(payload)

    async def _send_locked(self, payload: Json) -> None:
        connection = self.connection
        if connection is None:
            return
        try:
            await connection.send(payload)
        except (ConnectionError, RuntimeError):
            log.info("gateway connection lost while sending %s", payload.get("t"))
            self.connection = None


@dataclass
class GatewayStats:
    """Counters tests can assert on."""

    connections: int = 0
    compressed_connections: int = 0  # with ?compress=zlib-stream
    identifies: int = 0
    resumes: int = 0
    invalid_sessions: int = 0
    heartbeats: int = 0
    last_close_code: int | None = None
    received_ops: list[int] = field(default_factory=list)


class Gateway:
    """Serves the gateway; at most one live session (the bot) at a time."""

    def __init__(self, world: World, heartbeat_interval_s: float) -> None:
        self._world = world
        self.heartbeat_interval_s = heartbeat_interval_s
        self.session: GatewaySession | None = None
        self.ready = False  # READY and GUILD_CREATE sent on the current session
        self.stats = GatewayStats()
        self._connections: set[GatewayConnection] = set()

    @property
    def connected(self) -> bool:
        """True while the current session has a live websocket."""
        return self.session is not None and self.session.connection is not None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The aiohttp handler for ``GET /gateway/``."""
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream"
        connection = GatewayConnection(ws, request, compress)
        self._connections.add(connection)
        self.stats.connections += 1
        self.stats.compressed_connections += compress
        self._world.changes.notify()
        log.debug("gateway connection opened (%s)", request.query_string)
        try:
            await connection.send({"op": HELLO, "d": self._hello(), "s": None, "t": None})
            await self._serve(connection)
        finally:
            self._detach(connection)
        return ws

    async def dispatch(self, event: str, data: Json) -> None:
        """Send an event to the bot's session (buffered for RESUME while disconnected)."""
        if self.session is None:
            raise RuntimeError("the bot has not identified on the gateway yet")
        await self.session.dispatch(event, data)

    def wants(self, intent_bit: int) -> bool:
        """Whether the current session asked for this intent."""
        return self.session is not None and bool(self.session.intents & intent_bit)

    async def drop(self, code: int = 4000, *, resumable: bool = True, abort: bool = False) -> None:
        """Close the bot's websocket; the session stays resumable unless told otherwise."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot is not connected")
        connection, session.connection = session.connection, None
        session.valid = resumable
        self.ready = self.ready and resumable
        if abort:
            connection.abort()
        else:
            await connection.ws.close(code=code, message=b"dropped by localdiscord")
        self._world.changes.notify()

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes and resumes."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot is not connected")
        await session.connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close(self) -> None:
        """Close every websocket (code 1001, going away)."""
        for connection in list(self._connections):
            if not connection.ws.closed:
                await connection.ws.close(code=1001, message=b"server shutting down")

    async def _serve(self, connection: GatewayConnection) -> None:
        async for message in connection.ws:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                payload = json.loads(message.data)
            except json.JSONDecodeError:
                await connection.ws.close(code=CLOSE_DECODE_ERROR, message=b"Decode error")
                return
            await self._on_payload(connection, payload)

    def _hello(self) -> Json:
        interval_ms = int(self.heartbeat_interval_s * 1000)
        return {"heartbeat_interval": interval_ms, "_trace": ["localdiscord"]}

    def _detach(self, connection: GatewayConnection) -> None:
        self._connections.discard(connection)
        session = connection.session
        if session is not None and session.connection is connection:
            session.connection = None
        self.stats.last_close_code = connection.ws.close_code
        self._world.changes.notify()
        log.debug("gateway connection closed (code %s)", connection.ws.close_code)

    async def _on_payload(self, connection: GatewayConnection, payload: Json) -> None:
        op: int = payload.get("op", -1)
        data: Json = payload.get("d") or {}
        self.stats.received_ops.append(op)
        if op == HEARTBEAT:
            self.stats.heartbeats += 1
            await connection.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            self._world.changes.notify()
        elif op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(connection, data)
        elif op not in (PRESENCE, VOICE):
            log.warning("gateway op %s is not supported by localdiscord", op)

    async def _identify(self, connection: GatewayConnection, data: Json) -> None:
        if connection.session is not None:
            await connection.ws.close(code=CLOSE_ALREADY_AUTHENTICATED)
            return
        if data.get("token") != self._world.token:
            log.warning("IDENTIFY with a wrong token")
            await connection.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed.")
            return
        if self.session is not None:
            self.session.valid = False
        session = GatewaySession(id=secrets.token_hex(16), intents=int(data.get("intents") or 0))
        session.connection = connection
        connection.session = session
        self.session, self.ready = session, False
        self.stats.identifies += 1
        await session.dispatch("READY", ready_payload(self._world, session.id, data.get("shard")))
        await session.dispatch("GUILD_CREATE", guild_create_payload(self._world))
        self.ready = True
        self._world.changes.notify()

    async def _resume(self, connection: GatewayConnection, data: Json) -> None:
        session = self.session
        usable = session is not None and session.valid and session.id == data.get("session_id")
        if session is None or not usable or data.get("token") != self._world.token:
            self.stats.invalid_sessions += 1
            await connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        await session.attach(connection, int(data.get("seq") or 0))
        await session.dispatch("RESUMED", {"_trace": ["localdiscord"]})
        self.stats.resumes += 1
        self.ready = True
        self._world.changes.notify()

    async def _members_chunk(self, connection: GatewayConnection, data: Json) -> None:
        guild = self._world.guild
        chunk = {
            "guild_id": str(guild.id),
            "members": [member_payload(guild, user) for user in guild.users],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "presences": [],
            "nonce": data.get("nonce"),
        }
        if connection.session is not None:
            await connection.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
