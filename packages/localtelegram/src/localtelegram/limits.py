"""Telegram's flood control, per chat: at most ``count`` messages sent or edited in any
``per_s`` seconds; one more is refused with ``429`` and ``parameters.retry_after`` (whole
seconds, as Telegram gives them)."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A refused request: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_api(self) -> dict[str, Any]:
        """The response body."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code}
        body["description"] = self.description
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class RateLimit:
    """``count`` requests in any ``per_s`` seconds."""

    count: int
    per_s: float

    def scaled(self, factor: float) -> RateLimit:
        """The same count in a window ``factor`` times as long (tests: shorter)."""
        return RateLimit(self.count, self.per_s * factor)


GROUP_RATE = RateLimit(20, 60.0)  # Telegram's documented limit in a group: 20 a minute


@dataclass
class ChatLimits:
    """Each chat's recent requests under one ``RateLimit`` (None: no limit)."""

    rate: RateLimit | None
    recent: dict[int, deque[float]] = field(default_factory=dict)
    refused: int = 0  # 429s given, for the tests

    def take(self, chat_id: int) -> None:
        """Count one request in ``chat_id``, or raise the 429 it gets."""
        if self.rate is None:
            return
        now = time.monotonic()
        window = self.recent.setdefault(chat_id, deque())
        while window and window[0] <= now - self.rate.per_s:
            window.popleft()
        if len(window) >= self.rate.count:
            self.refused += 1
            wait = max(1, math.ceil(window[0] + self.rate.per_s - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        window.append(now)
