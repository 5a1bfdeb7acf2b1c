"""Discord-style snowflake ids: 42 bits of milliseconds since 2015, worker, process, counter."""

from __future__ import annotations

import datetime as dt
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeGenerator:
    """Hands out strictly increasing snowflakes that decode to the current time."""

    def __init__(self, *, worker_id: int = 1, process_id: int = 0) -> None:
        self._prefix = ((worker_id & 0x1F) << 17) | ((process_id & 0x1F) << 12)
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new snowflake, unique within this generator."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:  # counter exhausted: borrow the next millisecond
                self._last_ms += 1
                self._increment = 0
            now_ms = self._last_ms
        else:
            self._increment = 0
        self._last_ms = now_ms
        return (now_ms << 22) | self._prefix | self._increment


def snowflake_time(snowflake: int) -> dt.datetime:
    """Return the UTC creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def iso_timestamp(moment: dt.datetime) -> str:
    """Format a datetime the way Discord does (ISO 8601 with +00:00)."""
    return moment.astimezone(dt.UTC).isoformat()
