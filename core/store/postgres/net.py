"""How both ends of a PostgreSQL connection find the other gone when no FIN or RST ever comes.

When a machine or its network dies, its peers get no word of it: the server keeps the dead
client's sessions (their advisory and row locks, an open transaction holding row locks)
for the kernel's keepalive time, two hours by default, and a client waiting for an answer
retransmits for about fifteen minutes. Each connection therefore asks for TCP keepalives
every second (an idle connection) and ``TCP_USER_TIMEOUT`` (data sent and not acknowledged),
on the client side (libpq parameters) and on the server side (settings of its session), so
that either end drops a silent peer at the kernel's first check after ``timeout_s``: every
second for an idle connection, at the retransmissions (0.2, 0.6, 1.4, 3.0 s...) when data is
in flight; so ``timeout_s`` = 2.5 drops it after 3 s either way (measured in
docs/reliability.md). Over a Unix socket both are ignored.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from typing import Any

import psycopg

DATA_TIMEOUT_S = 2.5  # a store connection's silent peer is dropped after about 3 s


def client_timeouts(timeout_s: float) -> dict[str, Any]:
    """libpq parameters: this end drops the connection after ``timeout_s`` of silence."""
    return {
        "keepalives": 1,
        "keepalives_idle": 1,
        "keepalives_interval": 1,
        "keepalives_count": max(1, math.ceil(timeout_s)),
        "tcp_user_timeout": max(1000, round(timeout_s * 1000)),
    }


def server_timeouts_sql(timeout_s: float) -> str:
    """The statements that make the server end this session after ``timeout_s`` of silence
    from the client (what frees its locks when its machine dies)."""
    return (
        f"SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1; "
        f"SET tcp_keepalives_count = {max(1, math.ceil(timeout_s))}; "
        f"SET tcp_user_timeout = {max(1000, round(timeout_s * 1000))}"
    )


def shut_down(conn: psycopg.Connection[Any]) -> None:
    """Shut ``conn``'s socket down under whatever thread is using it: its call in flight fails
    at once, and nothing more goes to the server (thread-safe, unlike closing it)."""
    with (
        contextlib.suppress(OSError, psycopg.Error),
        socket.socket(fileno=os.dup(conn.pgconn.socket)) as cable,
    ):
        cable.shutdown(socket.SHUT_RDWR)
