"""A process's parents, as ``/proc`` says them (Linux; elsewhere no chain is found)."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

PROC = Path("/proc")
ANCESTRY_MAX = 64  # parents followed at most (a loop or a very deep tree ends there)


def ancestry(pid: int) -> list[int]:
    """``pid`` and its parents, nearest first (at most ``ANCESTRY_MAX``; [] when ``pid``
    is no process or there is no ``/proc``)."""
    chain: list[int] = []
    while pid > 0 and len(chain) < ANCESTRY_MAX and pid not in chain:
        parent = parent_of(pid)
        if parent is None:
            break
        chain.append(pid)
        pid = parent
    return chain


def parent_of(pid: int) -> int | None:
    """``pid``'s parent (None: no such process)."""
    fields = stat_fields(pid)
    try:
        return int(fields[1]) if fields is not None else None
    except (ValueError, IndexError):
        return None


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 is index 0);
    None when there is no such process (or no ``/proc``)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
        return raw[raw.rindex(")") + 2 :].split()
    except (OSError, ValueError):
        return None


def started(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat``'s 22nd field):
    with its pid, what names one process across pid reuse; None when it cannot be read."""
    fields = stat_fields(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def command_line(pid: int) -> list[str]:
    """``pid``'s arguments ([] when it is gone or cannot be read)."""
    try:
        words = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    return [word.decode("utf-8", "replace") for word in words if word]


def peer_of(sock: Any) -> tuple[int, int] | None:
    """The process connected to the Unix socket ``sock`` and its user, ``(pid, uid)``, as
    the kernel says (``SO_PEERCRED``); None where the system has no such option."""
    option = getattr(socket, "SO_PEERCRED", None)
    if sock is None or option is None:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    pid, uid, _ = struct.unpack("3i", raw)
    return (pid, uid) if pid > 0 else None
