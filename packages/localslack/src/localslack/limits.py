"""Slack's rate limits: each Web API method in a tier of requests per minute
(https://api.slack.com/apis/rate-limits), ``chat.postMessage`` per channel; over the limit a
request is answered ``429`` with ``Retry-After`` (seconds) and ``{"ok": false, "error":
"ratelimited"}``."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``window_s`` seconds."""

    count: int
    window_s: float


TIER_1 = Limit(1, 60.0)
TIER_2 = Limit(20, 60.0)
TIER_3 = Limit(50, 60.0)
TIER_4 = Limit(100, 60.0)
POST_MESSAGE = Limit(60, 60.0)  # "special": about one a second per channel, bursts allowed
METHOD_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "auth.test": TIER_4,
        "apps.connections.open": TIER_1,
        "chat.postMessage": POST_MESSAGE,
        "chat.update": TIER_3,
        "chat.postEphemeral": TIER_4,
        "conversations.info": TIER_3,
    }
)
PER_CHANNEL = frozenset({"chat.postMessage"})


@dataclass(frozen=True)
class RateLimits:
    """The limit of each method (a method not named: none)."""

    methods: Mapping[str, Limit] = field(default_factory=lambda: METHOD_LIMITS)

    def scaled(self, factor: float) -> RateLimits:
        """The same counts over windows ``factor`` times as long (tests: 0.01)."""
        return RateLimits(
            {m: Limit(lim.count, lim.window_s * factor) for m, lim in self.methods.items()}
        )

    def with_limit(self, method: str, limit: Limit) -> RateLimits:
        """These limits with ``method``'s set to ``limit``."""
        return RateLimits({**self.methods, method: limit})


SLACK_RATE_LIMITS = RateLimits()


class RateLimiter:
    """Counts requests in sliding windows; ``retry_after`` says how long one must wait."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, method: str, channel: str = "") -> int | None:
        """None when the request may pass (it is counted); else whole seconds to wait."""
        limit = self.limits.methods.get(method) if self.limits is not None else None
        if limit is None:
            return None
        key = (method, channel if method in PER_CHANNEL else "")
        seen = self._seen.setdefault(key, deque())
        now = time.monotonic()
        while seen and seen[0] <= now - limit.window_s:
            seen.popleft()
        if len(seen) < limit.count:
            seen.append(now)
            return None
        return max(1, math.ceil(seen[0] + limit.window_s - now))
