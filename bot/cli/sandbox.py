"""The ``swarm`` command inside a sandbox that refuses socket writes.

Codex CLI 0.169's ``workspace-write`` sandbox (its seccomp filter) refuses ``send`` on every
socket, a ``socketpair`` too. asyncio wakes its loop from a thread (the SQLite connection's
worker, ``to_thread``) by writing one byte to such a pair; refused, the error is swallowed and
the loop sleeps until its next timer: with none, ``swarm task start`` and ``swarm ask`` would
hang for minutes. Where the write is refused, a timer every ``TICK_S`` takes the place of the
wake-up (each hop to a thread then waits at most that long), so the command ends as outside.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

from core.settings import HOME

log = logging.getLogger(__name__)
T = TypeVar("T")
TICK_S = 0.01
HINT = (
    " (this shell runs in a sandbox that keeps it from swarm's home: report with swarm's MCP "
    "tools, or make SWARM_HOME one of the sandbox's writable roots, as swarm agents mcp "
    "install does in Codex's .codex/config.toml)"
)
_seen: list[bool] = []  # whether this process found the wake-up refused (run's probe)


def explained(message: str) -> str:
    """``message`` of a failure, with :data:`HINT` where a sandbox kept swarm from its
    database (the probe found socket writes refused and the message is about the store)."""
    if _seen and _seen[0] and (HOME.name in message or "database" in message):
        return message + HINT
    return message


def wake_refused() -> bool:
    """True when this process may not write to a socket pair (asyncio's wake-up)."""
    try:
        first, second = socket.socketpair()
    except OSError:
        return True
    with first, second:
        try:
            first.send(b"\0")
        except OSError:
            return True
    return False


def run(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``; where the wake-up write is refused, a timer re-armed every
    ``TICK_S`` keeps the loop waking until it is closed (its executor's shutdown too, which
    a thread ends by the same wake-up)."""
    _seen[:] = [wake_refused()]
    if not _seen[0]:
        return asyncio.run(work)
    log.debug("socket writes refused (a sandbox): the loop wakes every %s s", TICK_S)
    with asyncio.Runner() as runner:
        loop = runner.get_loop()

        def tick() -> None:
            loop.call_later(TICK_S, tick)

        tick()
        return runner.run(work)
