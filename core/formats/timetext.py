"""Epoch seconds as text, for any value: the one way a time is formatted.

A time swarm shows may come from outside (an agent's "try again in ..." message, a GitHub
rate limit header, a lock file, a row written by an older version): ``time.localtime``,
``time.strftime`` and ``datetime.fromtimestamp`` raise ``OverflowError``, ``ValueError`` or
``OSError`` on a huge, negative, infinite or NaN value. These helpers never do: a value out
of range is shown as the nearest time that can be shown (``showable``), NaN as the epoch.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

EARLIEST = 0.0  # 1970-01-01 UTC
LATEST = 253_402_128_000.0  # 9999-12-30 00:00 UTC: a day short of year 10000 in any zone


def showable(ts: Any) -> float:
    """``ts`` as a number every formatter takes: clamped to [``EARLIEST``, ``LATEST``];
    NaN, None or anything not a number is ``EARLIEST``."""
    try:
        value = float(ts)
    except (TypeError, ValueError, OverflowError):
        return EARLIEST
    if math.isnan(value):
        return EARLIEST
    return min(max(value, EARLIEST), LATEST)


def local_text(ts: Any, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``ts`` in this machine's zone as ``fmt`` (``time.strftime``), for any value."""
    return time.strftime(fmt, time.localtime(showable(ts)))


def utc_text(ts: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``ts`` in UTC as ``fmt`` (``datetime.strftime``), for any value."""
    return utc_datetime(ts).strftime(fmt)


def utc_datetime(ts: Any) -> dt.datetime:
    """``ts`` as an aware UTC datetime, for any value."""
    return dt.datetime.fromtimestamp(showable(ts), dt.UTC)


def whole_seconds(ts: Any) -> int:
    """``ts`` as whole epoch seconds (Discord's ``<t:...>``), for any value."""
    return int(showable(ts))
