"""A Bot API request's parameters, however they came: the query string, a form (what
python-telegram-bot sends: objects as JSON text) or a JSON body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from localtelegram.limits import ApiError


async def read_params(request: web.Request) -> Params:
    """The parameters of ``request``; a body that is not JSON when it says so: 400."""
    found: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ApiError(400, "Bad Request: can't parse JSON body") from None
        if isinstance(body, dict):
            found |= body
    elif request.can_read_body:
        found |= {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    return Params(found)


class Params:
    """Typed access to the parameters; a missing or malformed one is a 400 as Telegram
    words it."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        """Whether ``name`` was given."""
        return self.raw.get(name) not in (None, "")

    def text(self, name: str, default: str | None = None) -> str:
        """A string parameter."""
        value = self.raw.get(name)
        if value is None:
            if default is None:
                raise ApiError(400, f"Bad Request: {name} is empty")
            return default
        return str(value)

    def int(self, name: str, default: int | None = None) -> int:
        """An integer parameter."""
        value = self.raw.get(name)
        if value in (None, ""):
            if default is None:
                raise ApiError(400, f"Bad Request: {name} is empty")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def object(self, name: str) -> Any:
        """A JSON object parameter (a form's is JSON text); None when not given."""
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
