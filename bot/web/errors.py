"""Errors as JSON ``{"error": "..."}`` with the CLI's texts and a 4xx (or 503) status.

The store's errors: a constraint the change broke (a duplicate, a row gone meanwhile) is the
request's, 409; a database refusing for now (busy, unreachable, a deadlock: ``Transient``)
is 503 with ``Retry-After``; any other (a bug) 503 without it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from bot.errors import describe
from bot.web.auth import LoginNeeded
from core.errors import (
    ConfigError,
    DatabaseTooNew,
    IntegrityError,
    InvalidInput,
    InvalidState,
    NotFound,
    StorageError,
    StoreError,
    SwarmError,
    Transient,
    Unavailable,
)
from core.formats.text import one_line

STATUS = (
    (NotFound, 404),
    (InvalidState, 409),
    (InvalidInput, 400),
    (ConfigError, 400),
    (DatabaseTooNew, 503),
    (StorageError, 503),
)


RETRY_AFTER_S = 1  # busy, a deadlock: the other transaction ends within a second or so
RETRY_UNAVAILABLE_S = 5  # connection lost or refused, disk full: reconnecting takes longer


def status_of(exc: SwarmError) -> int:
    """The HTTP status of a domain error."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(SwarmError, _swarm_error)
    app.add_exception_handler(StoreError, _database_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(LoginNeeded, _to_login)
    app.add_exception_handler(Exception, _unexpected)


def error(status: int, text: str) -> JSONResponse:
    """The JSON error response."""
    return JSONResponse({"error": one_line(text)}, status_code=status)


async def _swarm_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SwarmError)
    return error(status_of(exc), describe(exc) or str(exc))


async def _database_error(_: Request, exc: Exception) -> Response:
    text = describe(exc) or "database error"
    if isinstance(exc, IntegrityError):
        return error(409, text)
    answer = error(503, text)
    if isinstance(exc, Transient):
        wait = RETRY_UNAVAILABLE_S if isinstance(exc, Unavailable) else RETRY_AFTER_S
        answer.headers["Retry-After"] = str(wait)
    return answer


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail))


async def _invalid_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        problems.append(
            f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid"))
        )
    return error(422, "invalid request: " + "; ".join(problems))


async def _unexpected(_: Request, exc: Exception) -> Response:
    """Anything else: logged with its traceback (by the server), answered in the same shape."""
    return error(500, f"internal error ({type(exc).__name__}): see the coordinator's log")


async def _to_login(request: Request, _: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
