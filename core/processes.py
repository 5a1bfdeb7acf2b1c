"""A process's parents and children, its arguments, owner and environment, as ``/proc``
says them (Linux; elsewhere no chain, no child and no environment is found)."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROC = Path("/proc")
ANCESTRY_MAX = 64  # parents followed at most (a loop or a very deep tree ends there)
DESCENDANTS_MAX = 256  # processes under the given roots looked at, at most
ENVIRON_MAX = 1 << 20  # bytes of one process's environment read, at most


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


def age_s(pid: int) -> float | None:
    """How long ago ``pid`` started, in seconds (None: no such process, or no ``/proc``)."""
    ticks = started(pid)
    try:
        uptime = float((PROC / "uptime").read_text(encoding="ascii").split()[0])
        return max(0.0, uptime - int(ticks) / os.sysconf("SC_CLK_TCK")) if ticks else None
    except (OSError, ValueError, IndexError):
        return None


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


def descendants(roots: Iterable[int]) -> list[int]:
    """The processes under ``roots`` (``roots`` first, then their children, nearest first;
    at most ``DESCENDANTS_MAX``): the parents of every process read once."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if entry.name.isdigit() and (parent := parent_of(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found = [pid for pid in dict.fromkeys(roots) if (PROC / str(pid)).is_dir()]
    at = 0
    while at < len(found) < DESCENDANTS_MAX:
        found += [pid for pid in sorted(children.get(found[at], [])) if pid not in found]
        at += 1
    return found[:DESCENDANTS_MAX]


def owner_of(pid: int) -> int | None:
    """The user ``pid`` runs as (its ``/proc`` folder's owner); None when it is gone."""
    try:
        return (PROC / str(pid)).stat().st_uid
    except OSError:
        return None


def environment(pid: int) -> dict[str, str]:
    """``pid``'s environment as it started ({} when it is gone, not ours to read, or larger
    than ``ENVIRON_MAX``): what the process chose, data only."""
    try:
        with open(PROC / str(pid) / "environ", "rb") as f:
            raw = f.read(ENVIRON_MAX + 1)
    except OSError:
        return {}
    if len(raw) > ENVIRON_MAX:
        return {}
    pairs = (os.fsdecode(item).partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs if key}
