"""Discord's rate limits: a global limit per bot and per-route buckets per top-level resource.

Documented by Discord (https://discord.com/developers/docs/topics/rate-limits): the headers
(``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``, ``-Reset-After``, ``-Bucket``; on a 429
also ``-Scope``, ``-Global`` and ``Retry-After``), the 429 body (``message``, ``retry_after``,
``global``), the global limit of 50 requests per second, which interaction endpoints are not
bound to, and buckets counted per top-level resource (channel, guild, webhook id + token).
Discord does not document per-route numbers; the defaults here are the ones observed and
reported in discord/discord-api-docs (#2761: message create and edit 5 per 5 s per channel;
#8330: message delete 5/1 s for messages under 10 s old, 3/0.333 s after, 30/4 s after two
weeks; #2701: interaction followups 5/2 s per interaction, like webhooks).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from localdiscord.snowflake import snowflake_time

Json = dict[str, Any]
MESSAGE_CREATE = "message create"
MESSAGE_EDIT = "message edit"
MESSAGE_DELETE_NEW = "message delete (under 10 s old)"
MESSAGE_DELETE = "message delete"
MESSAGE_DELETE_OLD = "message delete (over 2 weeks old)"
INTERACTION_WEBHOOK = "interaction webhook"
_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_WEBHOOK = "/webhooks/{app_id}/{token}"
# route (method and path under /api/v10, as registered) -> bucket name
ROUTE_BUCKETS: Mapping[str, str] = MappingProxyType(
    {
        "POST /channels/{channel_id}/messages": MESSAGE_CREATE,
        f"PATCH {_MESSAGE}": MESSAGE_EDIT,
        f"DELETE {_MESSAGE}": MESSAGE_DELETE,  # sub-limited by the message's age, see below
        f"POST {_WEBHOOK}": INTERACTION_WEBHOOK,
        f"GET {_WEBHOOK}/messages/{{message_id}}": INTERACTION_WEBHOOK,
        f"PATCH {_WEBHOOK}/messages/{{message_id}}": INTERACTION_WEBHOOK,
        f"DELETE {_WEBHOOK}/messages/{{message_id}}": INTERACTION_WEBHOOK,
    }
)
# the path parameters that make a bucket per top-level resource (a webhook: id + token)
MAJOR_PARAMETERS = ("channel_id", "guild_id", "app_id", "token")
INTERACTION_PREFIXES = ("/interactions/", "/webhooks/")  # not bound to the global limit
TWO_WEEKS_S = 14 * 24 * 3600.0


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``window_s`` seconds."""

    count: int
    window_s: float

    def __post_init__(self) -> None:
        if self.count < 1 or not self.window_s > 0:
            raise ValueError(f"a limit needs count >= 1 and window_s > 0, got {self}")


DISCORD_BUCKETS: Mapping[str, Limit] = MappingProxyType(
    {
        MESSAGE_CREATE: Limit(5, 5.0),
        MESSAGE_EDIT: Limit(5, 5.0),
        MESSAGE_DELETE_NEW: Limit(5, 1.0),
        MESSAGE_DELETE: Limit(3, 0.333),
        MESSAGE_DELETE_OLD: Limit(30, 4.0),
        INTERACTION_WEBHOOK: Limit(5, 2.0),
    }
)


@dataclass(frozen=True)
class RateLimits:
    """The limits a server enforces: ``global_limit`` (None: none) and ``buckets`` by name
    (a bucket left out is not limited; routes without a bucket only count globally)."""

    global_limit: Limit | None = Limit(50, 1.0)
    buckets: Mapping[str, Limit] = field(default_factory=lambda: DISCORD_BUCKETS)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.buckets) - set(DISCORD_BUCKETS))
        if unknown:
            raise ValueError(f"unknown buckets {unknown}; known: {sorted(DISCORD_BUCKETS)}")

    def scaled(self, factor: float) -> RateLimits:
        """The same buckets with windows ``factor`` times as long (tests: < 1, faster); the
        global limit stays as it is."""
        buckets = {
            name: Limit(limit.count, limit.window_s * factor)
            for name, limit in self.buckets.items()
        }
        return RateLimits(self.global_limit, MappingProxyType(buckets))


DISCORD_RATE_LIMITS = RateLimits()


@dataclass
class _Window:
    """A fixed window that starts with its first request, as Discord's buckets do."""

    limit: Limit
    used: int = 0
    resets_at: float = 0.0

    def take(self, now: float) -> bool:
        if now >= self.resets_at:
            self.used, self.resets_at = 0, now + self.limit.window_s
        if self.used >= self.limit.count:
            return False
        self.used += 1
        return True


@dataclass(frozen=True)
class Admission:
    """What the limiter decided: the headers to send, and a 429 body when refused."""

    headers: dict[str, str]
    refused: Json | None = None


class RateLimiter:
    """Counts a bot's REST requests against :class:`RateLimits`."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Window] = {}
        self._global = None if limits.global_limit is None else _Window(limits.global_limit)

    def admit(self, method: str, route: str, params: Mapping[str, str]) -> Admission:
        """Count one request to ``route`` (path under the API prefix, as registered)."""
        now = self._clock()
        name = self._bucket_name(f"{method} {route}", params)
        limit = self.limits.buckets.get(name) if name else None
        glob = None if route.startswith(INTERACTION_PREFIXES) else self._global
        if glob is not None and not glob.take(now):
            return _refused_globally(glob, now)
        if name is None or limit is None:
            return Admission({})
        major = "+".join(params[key] for key in MAJOR_PARAMETERS if key in params)
        window = self._buckets.setdefault((name, major), _Window(limit))
        allowed = window.take(now)
        headers = _bucket_headers(name, window, now)
        if allowed:
            return Admission(headers)
        retry_after = _seconds(window.resets_at - now)
        headers.update({"X-RateLimit-Scope": "user", "Retry-After": str(math.ceil(retry_after))})
        return Admission(headers, _body(retry_after, is_global=False))

    @staticmethod
    def _bucket_name(key: str, params: Mapping[str, str]) -> str | None:
        name = ROUTE_BUCKETS.get(key)
        if name != MESSAGE_DELETE or not params.get("message_id", "").isdigit():
            return name
        age = time.time() - snowflake_time(int(params["message_id"])).timestamp()
        if age < 10:
            return MESSAGE_DELETE_NEW
        return MESSAGE_DELETE_OLD if age > TWO_WEEKS_S else MESSAGE_DELETE


def _refused_globally(window: _Window, now: float) -> Admission:
    retry_after = _seconds(window.resets_at - now)
    headers = {
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        "Retry-After": str(math.ceil(retry_after)),
    }
    return Admission(headers, _body(retry_after, is_global=True))


def _seconds(value: float) -> float:
    """Seconds rounded up to the millisecond (never early by a rounding), after float noise
    below a microsecond is rounded away: ``(12.7 + 30) - 12.7`` is 30.000000000000004, which
    must read 30.000, not 30.001 (longer than the bucket's window)."""
    return max(0.001, math.ceil(round(value * 1000, 3)) / 1000)


def _bucket_headers(name: str, window: _Window, now: float) -> dict[str, str]:
    reset_after = _seconds(window.resets_at - now)
    return {
        "X-RateLimit-Limit": str(window.limit.count),
        "X-RateLimit-Remaining": str(window.limit.count - window.used),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": hashlib.md5(name.encode(), usedforsecurity=False).hexdigest(),
    }


def _body(retry_after: float, *, is_global: bool) -> Json:
    return {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
