"""The hook's fast path: hand the event to the coordinator that runs on this machine, over
its Unix socket ``$SWARM_HOME/hook.sock``, which records it as ``swarm hook`` would.

Standard library only: a Python start and one round trip, no database driver, no swarm
module (the database path costs 0.4-0.6 s of CPU per tool call on PostgreSQL). ``send``
says False, and the hook takes its database path, when no coordinator answers there, for a
``PermissionRequest`` (it waits for a person's answer; ``flush`` first), or when the reply
does not come within ``RELAY_WAIT_S`` (then the event may be recorded twice: a state seen
twice, never one lost).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path

SOCKET_NAME = "hook.sock"
RELAY_WAIT_S = 2.0  # connect, send, and the coordinator's answer (it has the event)
FLUSH_WAIT_S = 10.0  # the coordinator writes what it took before: at most 8 s
FLUSH_LINE = b'{"flush": true}'
REPLY_MAX = 4096


def socket_path(env: Mapping[str, str]) -> Path:
    """Where the coordinator of the hook's swarm home listens."""
    return Path(env.get("SWARM_HOME") or "~/.swarm").expanduser() / SOCKET_NAME


def asks_permission(raw: str) -> bool:
    """Whether the hook's JSON may be a ``PermissionRequest`` (a plain look, no parse: one
    that only names it goes the database's way, which parses it)."""
    return '"PermissionRequest"' in raw


def flush(env: Mapping[str, str] = os.environ) -> bool:
    """Wait until the coordinator has written every event it took before this call: a
    ``PermissionRequest`` hook opens its prompt through the database after the events of
    its turn, not before them (a turn's ``UserPromptSubmit`` written late would close it).
    True when it did; False when no coordinator answers here or it took too long."""
    path = socket_path(env)
    if not path.exists():
        return False
    return _exchange(path, FLUSH_LINE + b"\n", FLUSH_WAIT_S)


def send(raw: str, agent: str | None, env: Mapping[str, str] = os.environ) -> bool:
    """True when the coordinator took the event (to record it, or refused it for good and
    said why in its log)."""
    path = socket_path(env)
    if asks_permission(raw) or not path.exists():
        return False
    message = {
        "agent": agent,
        "swarm_agent": env.get("SWARM_AGENT"),
        "config": env.get("SWARM_CONFIG"),
        "cwd": os.getcwd(),
        "payload": raw,
    }
    line = json.dumps(message).encode("utf-8") + b"\n"
    return _exchange(path, line, RELAY_WAIT_S)


def _exchange(path: Path, line: bytes, wait_s: float) -> bool:
    """Send one line, read the answer: whether it says done."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(wait_s)
            sock.connect(str(path))
            sock.sendall(line)
            with sock.makefile("rb") as replies:
                reply = json.loads(replies.readline(REPLY_MAX) or b"{}")
    except (OSError, ValueError):
        return False
    return isinstance(reply, dict) and reply.get("done") is True
