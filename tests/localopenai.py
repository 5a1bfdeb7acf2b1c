"""A local OpenAI-compatible server: scripted chat-completion answers for tests and the demo.

It speaks the part of the API swarm uses, ``POST /v1/chat/completions`` (with ``usage`` in
every answer) and ``GET /v1/models``, records every request, and answers from a queue of
scripted replies: JSON content, error statuses (429, 500...), or a delay to provoke a client
timeout. When the queue is empty it asks the ``responder`` given at construction, if any.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """One scripted answer; token counts default to an estimate of the text's length."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, **kwargs: Any) -> Reply:
        """A successful answer whose content is ``value`` as JSON text."""
        return cls(content=json.dumps(value), **kwargs)

    @classmethod
    def error(cls, status: int, message: str = "", **kwargs: Any) -> Reply:
        """An error answer (``status`` 429, 500...) with an OpenAI-style error body."""
        return cls(content=message or f"scripted error {status}", status=status, **kwargs)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request."""
        return list(self.body.get("messages") or [])

    @property
    def text(self) -> str:
        """Every message's content, joined: what the model was shown."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


Responder = Callable[[RecordedRequest], Reply]


class LocalOpenAI:
    """An OpenAI-compatible HTTP server on 127.0.0.1 answering from a script."""

    def __init__(self, host: str = "127.0.0.1", responder: Responder | None = None) -> None:
        self._host = host
        self._responder = responder
        self._queue: deque[Reply] = deque()
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base = ""
        self.requests: list[RecordedRequest] = []

    def script(self, *replies: Reply) -> None:
        """Queue answers, served in order, one per request."""
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted answers not yet served."""
        return len(self._queue)

    @property
    def url(self) -> str:
        """The base URL for the ``openai`` client: ``http://127.0.0.1:PORT/v1``."""
        if not self._base:
            raise RuntimeError("the server is not started")
        return f"{self._base}/v1"

    async def start(self, port: int = 0) -> None:
        """Listen on the host and a free (or given) port."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        await web.TCPSite(runner, self._host, port).start()
        self._runner = runner
        host, bound = runner.addresses[0][:2]
        self._base = f"http://{host}:{bound}"
        log.info("localopenai listening on %s", self._base)

    async def close(self) -> None:
        """Stop listening; delayed answers still waiting are cut short."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalOpenAI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        if self._queue:
            return self._queue.popleft()
        if self._responder is not None:
            return self._responder(request)
        return Reply.error(500, "localopenai: no scripted answer left")

    async def _chat(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error_response(Reply.error(400, "the body is not JSON"))
        recorded = RecordedRequest(request.path, body, dict(request.headers))
        self.requests.append(recorded)
        reply = self._next_reply(recorded)
        if reply.delay_s > 0 and await self._closed_within(reply.delay_s):
            return _error_response(Reply.error(503, "localopenai is closing"))
        if reply.status != 200:
            return _error_response(reply)
        return web.json_response(self._completion(body, recorded, reply), headers=reply.headers)

    async def _closed_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _completion(
        self, body: dict[str, Any], request: RecordedRequest, reply: Reply
    ) -> dict[str, Any]:
        prompt = reply.prompt_tokens
        prompt = max(1, len(request.text) // 4) if prompt is None else prompt
        completion = reply.completion_tokens
        completion = max(1, len(reply.content) // 4) if completion is None else completion
        return {
            "id": f"chatcmpl-local-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "local")),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    async def _models(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": "local", "object": "model", "created": 0, "owned_by": "localopenai"}
                ],
            }
        )


def _error_response(reply: Reply) -> web.Response:
    kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
    body = {"error": {"message": reply.content, "type": kind, "code": kind, "param": None}}
    return web.json_response(body, status=reply.status, headers=reply.headers)
