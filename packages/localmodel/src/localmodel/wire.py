"""What each wire format (Anthropic, Responses, Chat Completions, Gemini) provides the server."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from localmodel.player import Outcome
from localmodel.script import Step
from localmodel.streaming import Event
from localmodel.usage import Usage
from localmodel.view import View


class BadRequest(ValueError):
    """A request body the API would refuse (400), with its message."""


class Wire(Protocol):
    """One API: reading its requests, writing its answers and errors."""

    api: str

    def read(self, body: Any, request: web.Request) -> View:
        """The request, read; :class:`BadRequest` if the API would refuse it."""
        ...

    def answer(self, outcome: Outcome, view: View) -> web.Response:
        """The non-streaming answer."""
        ...

    def events(self, outcome: Outcome, view: View) -> list[Event]:
        """The streamed answer's events (those reporting usage carry it)."""
        ...

    def usage(self, outcome: Outcome) -> Usage:
        """The usage the whole answer reports, in the fields the API has."""
        ...

    def error(self, step: Step) -> web.Response:
        """The API's error answer for a failure step (or a bad request)."""
        ...


def new_id(prefix: str, size: int = 12) -> str:
    """A random identifier like the API's: ``msg_0a1b...``."""
    return prefix + secrets.token_hex(size)


def now() -> int:
    """Unix time in whole seconds."""
    return int(time.time())


def rfc3339_in(seconds: float) -> str:
    """The UTC time ``seconds`` from now, RFC 3339 (Anthropic's reset headers)."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_seconds(seconds: float) -> str:
    """A ``retry-after`` value: whole seconds, rounded up."""
    return str(max(0, -int(-seconds // 1)))


def error_message(step: Step, defaults: dict[int, str]) -> str:
    """The step's message, else the API's usual one for the status."""
    return step.message or defaults.get(step.status, f"localmodel: scripted error {step.status}")
