"""LocalModel: a scripted model server on 127.0.0.1 speaking four vendors' wire formats."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from localmodel.app import build_app
from localmodel.player import Player, Responder
from localmodel.recording import (
    SECRET_QUERY,
    RecordedRequest,
    redacted_headers,
    redacted_query,
    secret_digest,
)
from localmodel.script import Script, Step
from localmodel.streaming import Pauses
from localmodel.usage import summarize

log = logging.getLogger(__name__)


class LocalModel:
    """A model server answering from a :class:`Script` and recording every request.

    ``async with LocalModel(script) as model:`` then point a client at :attr:`url` (Anthropic,
    Gemini) or :attr:`openai_url` (``.../v1``: Responses, Chat Completions). ``responder``
    answers prompts no turn matches (instead of the script's default); ``record_to`` appends
    each request to a JSON-lines file as well.
    """

    def __init__(
        self,
        script: Script | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: tuple[str, ...] = ("local",),
        responder: Responder | None = None,
        record_to: Path | None = None,
    ) -> None:
        if not models:
            raise ValueError("models: name at least one model")
        self.player = Player(script or Script(), responder)
        self.pauses = Pauses()
        self.requests: list[RecordedRequest] = []
        self.models = models
        self._host = host
        self._port = port
        self._record_to = record_to
        self._recorded = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the host and the port (0: a free one)."""
        runner = web.AppRunner(
            build_app(self),
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        log.info("localmodel listening on %s", self.url)

    async def close(self) -> None:
        """Stop listening; delays and stalls under way end at once."""
        self.pauses.closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalModel:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def openai_url(self) -> str:
        """The base URL of the OpenAI clients (``OPENAI_BASE_URL``): ``{url}/v1``."""
        if not self.url:
            raise RuntimeError("the server is not started")
        return f"{self.url}/v1"

    # -- the script -----------------------------------------------------------------------------

    @property
    def script(self) -> Script:
        """The script in force."""
        return self.player.script

    @script.setter
    def script(self, script: Script) -> None:
        self.player.set_script(script)

    def queue(self, *steps: Step) -> None:
        """Answer the next requests with these steps, one each, before the script."""
        self.player.queue(steps)

    @property
    def pending(self) -> int:
        """Queued steps not yet served."""
        return len(self.player.queued)

    def release(self) -> int:
        """End the stalls under way (their streams go on); how many there were."""
        return self.pauses.release()

    def status(self) -> dict[str, Any]:
        """What the admin endpoint shows at ``/_localmodel/``."""
        return {
            "url": self.url,
            "requests": len(self.requests),
            "pending": self.pending,
            "stalled": self.pauses.stalled,
            "turns": len(self.script.turns),
            "models": list(self.models),
        }

    def usage(self, since: int = 0) -> dict[str, Any]:
        """The usage the answers to requests after ``since`` reported (``/_localmodel/usage``)."""
        return summarize(r for r in self.requests if r.seq > since)

    # -- recording ------------------------------------------------------------------------------

    def record(self, request: web.Request, body: Any) -> RecordedRequest:
        """Remember a request as it arrived (its outcome is filled in by :meth:`finish`)."""
        headers, secrets = redacted_headers(request.headers)
        for name, value in request.query.items():
            if name.lower() in SECRET_QUERY:
                secrets[f"?{name.lower()}"] = secret_digest(value)
        record = RecordedRequest(
            seq=len(self.requests) + 1,
            at=time.time(),
            method=request.method,
            path=request.path,
            query=redacted_query(request.query),
            headers=headers,
            body=body,
            secrets=secrets,
        )
        self.requests.append(record)
        self._recorded.set()
        self._recorded = asyncio.Event()
        return record

    def finish(self, record: RecordedRequest, status: int, outcome: str | None = None) -> None:
        """Note what a request got; append it to the record file once."""
        first = record.status == 0
        record.status = status
        if outcome is not None:
            record.outcome = outcome
        if first and self._record_to is not None:
            with self._record_to.open("a", encoding="utf-8") as out:
                line = record.to_json()
                del line["usage"]  # not known yet: the answer is still to be sent
                out.write(json.dumps(line, default=str) + "\n")

    async def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], within: float = 10.0
    ) -> RecordedRequest:
        """The first recorded request (past or coming) the predicate accepts."""
        deadline = asyncio.get_running_loop().time() + within
        seen = 0
        while True:
            for record in self.requests[seen:]:
                if predicate(record):
                    return record
            seen = len(self.requests)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no matching request within {within:g} s ({seen} seen)")
            try:
                await asyncio.wait_for(self._recorded.wait(), left)
            except TimeoutError:
                continue
