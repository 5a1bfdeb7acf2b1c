"""Socket Mode's WebSocket (https://api.slack.com/apis/socket-mode): a ticket from
``apps.connections.open`` opens a connection, greeted with ``hello``; each envelope
(``events_api``, ``interactive``, ``slash_commands``) waits for its ack, a message carrying
its ``envelope_id`` (and, for a command, the answer's ``payload``); ``disconnect`` asks the
app to connect again."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)
Json = dict[str, Any]
ACK_WAIT_S = 3.0  # Slack's deadline for an ack


class NotConnected(Exception):
    """No app is connected to receive an envelope."""


class NotAcked(Exception):
    """The app did not ack an envelope within Slack's 3 seconds."""


class SocketMode:
    """The connections of the app, the tickets given out, the acks awaited."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.tickets: set[str] = set()
        self.connections: list[web.WebSocketResponse] = []
        self.acks: dict[str, asyncio.Future[Json]] = {}
        self.connected = asyncio.Event()
        self.opened = 0  # connections opened since the start

    def ticket(self) -> str:
        """A single-use ticket for one connection."""
        ticket = secrets.token_hex(16)
        self.tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """A connection: refused without a valid ticket; else ``hello``, then acks read."""
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        self.opened += 1
        self.connected.set()
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.connections),
                "debug_info": {"host": "localslack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": self.app_id},
            }
        )
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._acked(message.data)
        finally:
            self.connections.remove(ws)
            if not self.connections:
                self.connected.clear()
        return ws

    def _acked(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            log.warning("localslack: not JSON on the socket: %.200s", data)
            return
        waiting = self.acks.pop(str(ack.get("envelope_id", "")), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(ack.get("payload") or {})

    async def send(self, kind: str, payload: Json, wait_s: float = 5.0) -> Json:
        """Send an envelope to the newest connection (waiting ``wait_s`` for one); its ack's
        payload ({} when none). NotConnected, NotAcked."""
        try:
            await asyncio.wait_for(self.connected.wait(), wait_s)
        except TimeoutError:
            raise NotConnected("no app connected over Socket Mode") from None
        envelope_id = secrets.token_hex(8)
        acked: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self.acks[envelope_id] = acked
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "payload": payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        await self.connections[-1].send_json(envelope)
        try:
            return await asyncio.wait_for(acked, ACK_WAIT_S)
        except TimeoutError:
            raise NotAcked(f"{kind} envelope {envelope_id} not acked in {ACK_WAIT_S} s") from None
        finally:
            self.acks.pop(envelope_id, None)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every connected app to connect again (Slack's ``disconnect``)."""
        for ws in list(self.connections):
            await ws.send_json({"type": "disconnect", "reason": reason})

    async def close(self) -> None:
        """Close every connection."""
        for ws in list(self.connections):
            await ws.close()
