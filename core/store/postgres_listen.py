"""LISTEN on a PostgreSQL channel on a connection of its own, reconnecting after a loss."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

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

    from core.store.postgres import error_line
    from core.store.postgres_net import DATA_TIMEOUT_S, client_timeouts, server_timeouts_sql

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
            log.warning("%s failed (%s); again in 1 s", what, error_line(exc))
            await asyncio.sleep(1.0)
