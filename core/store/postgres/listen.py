"""LISTEN on a PostgreSQL channel on a connection of its own, reconnecting after a loss."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from core.privacy.redact import redact_urls
from core.store.commit_watch import wait_readable
from core.store.postgres.net import DATA_TIMEOUT_S, client_timeouts, server_timeouts_sql

log = logging.getLogger(__name__)


async def listen(
    url: str,
    channel: str | Sequence[str],
    heard: Callable[[int, str], None],
    ready: Callable[[], None],
    what: str,
) -> None:
    """LISTEN ``channel`` (or each of several) on a connection of its own until cancelled:
    ``ready()`` each time it listens (anew after a lost connection: catch up then),
    ``heard(pid, payload)`` for each notification; a failed connection is logged and tried
    again every second."""
    import psycopg
    from psycopg import sql

    while True:
        try:  # keepalives: a listener cut off silently notices, reconnects and catches up
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True, **client_timeouts(DATA_TIMEOUT_S)
            )
            async with conn:
                await conn.execute(server_timeouts_sql(DATA_TIMEOUT_S))
                for name in [channel] if isinstance(channel, str) else channel:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
                ready()
                async for note in conn.notifies():
                    heard(note.pid, note.payload)
        except psycopg.Error as exc:
            log.warning("%s failed (%s); again in 1 s", what, _error_line(exc))
            await asyncio.sleep(1.0)


class NotifyWait:
    """Wait for ``NOTIFY channel, 'payload'`` on a connection of its own, inside an asyncio
    loop (a waiting hook: a person's decision wakes it at once, without polling).

    The same face as :class:`core.store.commit_watch.CommitWatch`: ``changed()`` says
    whether the awaited notification came since the last look (True at the first look: the
    LISTEN began after the caller's change, so what happened before it must be read),
    ``wait(longest_s)`` sleeps until it comes or ``longest_s`` passes. A lost connection is
    logged once and then reads as "changed" at every look (the caller reads each time)."""

    wakes_on_commits = True

    def __init__(self, conn: Any, payload: str) -> None:
        self._conn = conn
        self._payload = payload
        self._heard = True  # the first look reads

    @classmethod
    def open(cls, url: str, channel: str, payload: str) -> NotifyWait | None:
        """LISTEN ``channel``; None (logged) when the database cannot be reached."""
        import psycopg

        try:
            conn = psycopg.connect(url, autocommit=True, **client_timeouts(DATA_TIMEOUT_S))
            conn.execute(server_timeouts_sql(DATA_TIMEOUT_S))
            conn.execute(f"LISTEN {channel}")
        except psycopg.Error as exc:
            log.debug("no LISTEN %s (%s): reading each time", channel, _error_line(exc))
            return None
        return cls(conn, payload)

    def changed(self) -> bool:
        """True when the notification came since the last call (and at the first call)."""
        self._drain()
        heard, self._heard = self._heard, self._conn is None
        return heard

    async def wait(self, longest_s: float) -> None:
        """Until the notification comes or ``longest_s`` seconds pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + longest_s
        while not self._drain() and (left := deadline - loop.time()) > 0:
            await wait_readable(self._conn.fileno(), left)
        if self._conn is None:  # lost: no faster than a poll
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    def _drain(self) -> bool:
        """Take the notifications that arrived (without waiting); True once ours came."""
        import psycopg

        if self._conn is None:
            return True
        try:
            for note in self._conn.notifies(timeout=0):
                if note.payload == self._payload:
                    self._heard = True
        except psycopg.Error as exc:
            log.warning("LISTEN lost (%s): reading each time", _error_line(exc))
            self.close()
            self._heard = True
        return self._heard

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _error_line(exc: BaseException) -> str:
    """The error's first line, without a password a URL in it may hold (as
    ``core.store.postgres.store.error_line``, which this module cannot import)."""

    return redact_urls((str(exc).strip() or type(exc).__name__).splitlines()[0])
