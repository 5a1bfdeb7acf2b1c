"""The aiohttp application: the four model APIs, the admin endpoints, a record of each request."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from localmodel import admin, anthropic, chat, gemini
from localmodel.anthropic import Anthropic
from localmodel.chat import Chat
from localmodel.gemini import Gemini
from localmodel.recording import RecordedRequest
from localmodel.responses import Responses
from localmodel.script import Step
from localmodel.streaming import stream
from localmodel.wire import BadRequest, Wire

if TYPE_CHECKING:
    from localmodel.server import LocalModel

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MODEL_KEY: web.AppKey[LocalModel] = web.AppKey("localmodel")
RECORD_KEY: web.RequestKey[RecordedRequest] = web.RequestKey("record")
ANTHROPIC, RESPONSES, CHAT, GEMINI = Anthropic(), Responses(), Chat(), Gemini()


def build_app(model: LocalModel) -> web.Application:
    """The application serving ``model``."""
    app = web.Application(middlewares=[_record], client_max_size=64 * 1024**2)
    app[MODEL_KEY] = model
    app.router.add_post("/v1/messages", _wire(ANTHROPIC))
    app.router.add_post("/v1/messages/count_tokens", _count_anthropic)
    app.router.add_post("/v1/responses", _wire(RESPONSES))
    app.router.add_post("/v1/chat/completions", _wire(CHAT))
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/v1beta/models", _gemini_models)
    app.router.add_post("/v1beta/models/{target}", _gemini)
    admin.register(app.router, model)
    app.router.add_route("*", "/{tail:.*}", _unknown)
    return app


def _model(request: web.Request) -> LocalModel:
    return request.app[MODEL_KEY]


@web.middleware
async def _record(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(admin.PREFIX):
        return await handler(request)
    model = _model(request)
    raw = await request.read()
    record = model.record(request, _parse(raw))
    request[RECORD_KEY] = record
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        model.finish(record, exc.status)
        raise
    model.finish(record, response.status)
    return response


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _wire(wire: Wire) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await serve(request, wire)

    return handle


async def serve(request: web.Request, wire: Wire) -> web.StreamResponse:
    """Read the request, decide its outcome, answer it (paced, streamed or not)."""
    model = _model(request)
    record = request[RECORD_KEY]
    try:
        view = wire.read(record.body, request)
    except BadRequest as exc:
        model.finish(record, 400, f"bad request: {exc}")
        return wire.error(Step(status=400, message=str(exc)))
    record.api, record.prompt, record.text = view.api, view.prompt, view.text
    record.model = view.model
    outcome = model.player.decide(view, record)
    step = outcome.step
    model.finish(record, step.status, f"{outcome.note}: {step.describe()}")
    log.info("localmodel: %s %s -> %s", view.api, record.path, record.outcome)
    if not await model.pauses.hold(step.delay):
        return wire.error(Step(status=503, message="localmodel is closing"))
    if outcome.failure:
        return wire.error(step)
    if view.stream:
        return await stream(request, wire.events(outcome, view), outcome, model.pauses, record)
    if outcome.stall and not await model.pauses.stall(step.stall_for):
        return wire.error(Step(status=503, message="localmodel is closing"))
    answer = wire.answer(outcome, view)
    record.usage = wire.usage(outcome)
    return answer


async def _count_anthropic(request: web.Request) -> web.Response:
    try:
        return anthropic.count_tokens(request[RECORD_KEY].body)
    except BadRequest as exc:
        return ANTHROPIC.error(Step(status=400, message=str(exc)))


async def _models(request: web.Request) -> web.Response:
    names = _model(request).models
    if "anthropic-version" in request.headers:
        data = [
            {"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"}
            for n in names
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": names[0], "last_id": names[-1]}
        )
    return chat.models_list(names)


async def _gemini_models(request: web.Request) -> web.Response:
    return gemini.models_list(_model(request).models)


async def _gemini(request: web.Request) -> web.StreamResponse:
    method = request.match_info["target"].partition(":")[2]
    if method in ("generateContent", "streamGenerateContent"):
        return await serve(request, GEMINI)
    if method == "countTokens":
        return gemini.count_tokens(request[RECORD_KEY].body)
    return await _unknown(request)


async def _unknown(request: web.Request) -> web.Response:
    log.info("localmodel: no such endpoint: %s %s", request.method, request.path)
    body = {"error": {"message": f"localmodel has no {request.method} {request.path}"}}
    return web.json_response(body, status=404)
