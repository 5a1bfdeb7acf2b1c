"""Telegram's flood control met: a request refused with ``429`` is sent again after the
``retry_after`` Telegram gave, as many times as it takes (nothing was sent, so nothing is
doubled; nothing is dropped). Other errors pass through to the caller. Installed as
python-telegram-bot's rate limiter, so every request of the bot waits alike: the notifier's
posts, the answers to commands and to presses."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
MAX_WAIT_S = 3600.0  # a wait asked longer than this is waited this long, then tried again


def retry_after_s(exc: RetryAfter) -> float:
    """The seconds Telegram asked to wait (python-telegram-bot's int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
    return min(max(seconds, 0.0), MAX_WAIT_S)


class WaitOnRetryAfter(BaseRateLimiter[None]):
    """Every request sent again after each ``429``'s ``retry_after``; ``waited``: how many
    times (``swarm status`` and the tests read it)."""

    def __init__(self) -> None:
        self.waited = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Call ``callback`` until it is not refused for flood control."""
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_s(exc)
                self.waited += 1
                log.info("telegram: %s waits %.0f s (flood control)", endpoint, wait)
                await asyncio.sleep(wait)
