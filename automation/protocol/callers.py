"""Who calls a host's socket: the connected process (``SO_PEERCRED``) and its parents. A
process that runs under a protocol host (the agent the host runs, and everything it starts,
or another protocol agent) is refused: the agent may not answer its own permission requests,
prompt itself, stop a turn, or read a journal. Swarm's own processes (``swarm run``,
``swarm node``, ``swarm attach`` and ``desktop`` in a person's terminal) run under no host."""

from __future__ import annotations

import asyncio
import os

from core.formats.text import one_line, shorten
from core.hosts import lines, requests, running
from core.processes import ancestry, peer_of


def refusal(pid: int) -> str | None:
    """Why process ``pid`` may not use a host's socket (None: it may): it or a parent of
    it is a protocol host, this one (a process of the agent it runs: the agent may not
    answer its own requests, prompt itself or read its journal) or another's; a process
    gone before it is told (swarm's own callers wait for their answer)."""
    chain = ancestry(pid)
    if not chain:
        return f"pid {pid} was gone before it could be told whose it is"
    for ancestor in chain:
        if ancestor == os.getpid():
            return f"pid {pid} is a process of the agent this host runs"
        agent = running.hosted_agent(ancestor)
        if agent is not None:
            return f"pid {pid} is a process of {shorten(one_line(agent), 60)}'s protocol agent"
    return None


def peer_pid(writer: asyncio.StreamWriter) -> int | None:
    """The connected process (``SO_PEERCRED``; None where the system has no such option)."""
    found = peer_of(writer.get_extra_info("socket"))
    return found[0] if found is not None else None


def op_of(line: bytes) -> str | None:
    """The ``op`` a refused request asked for, in short (None: none could be read)."""
    op = requests.op_of(lines.parse(line)) if line else None
    return shorten(one_line(op), 40) if op is not None else None
