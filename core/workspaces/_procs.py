"""Processes swarm started and may have to stop after it was killed: a process is named by
its pid and its start time (so a pid the kernel has given to another process is never
touched). Linux (``/proc``); elsewhere ``ps`` gives the start time and sessions are stopped
through their process group only."""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from core.processes import started, stat_fields

log = logging.getLogger(__name__)
PROC = Path("/proc")
GONE_WAIT_S = 10.0


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Proc:
    """A process as recorded: its pid and start time (opaque, compared for equality)."""

    pid: int
    started: str

    def alive(self) -> bool:
        """True while this very process (not a later one with its pid) runs."""
        now = start_time(self.pid)
        return now is not None and now == self.started and not _zombie(self.pid)


def me() -> Proc:
    """The running process."""
    return Proc(os.getpid(), start_time(os.getpid()) or "")


def host() -> str:
    """This machine's name (what a process recorded elsewhere is compared with)."""
    return socket.gethostname()


def os_user() -> str:
    """``os:NAME``: the operating system's user running this process (what the trust rests
    on: anything running as this user can reach the database)."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return f"os:uid {os.getuid()}"


def pid_namespace() -> str:
    """This process's pid namespace (``pid:[4026531836]``; empty where there is none to
    read): a pid means the same process only within one namespace."""
    try:
        return os.readlink(PROC / "self" / "ns" / "pid")
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot on Linux), None when no such process."""
    found = started(pid)
    if found is not None:
        return found
    if PROC.is_dir():
        return None
    try:  # no /proc (macOS, BSD)
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def _zombie(pid: int) -> bool:
    stat = stat_fields(pid)
    return stat is not None and stat[0] in ("Z", "X")


def session_members(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (Linux; empty elsewhere)."""
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        stat = stat_fields(int(entry.name))
        if stat is not None and stat[0] not in ("Z", "X") and int(stat[3]) == sid:
            found.append(int(entry.name))
    return found


def stop_session(leader: Proc) -> list[int]:
    """SIGKILL every process of the session ``leader`` started with ``setsid`` (the leader
    and whatever it left running), then wait (bounded) until they are gone; the pids
    killed. Nothing is killed when the leader's pid now belongs to another process: the
    kernel never reuses a pid while a session of that id has members, so a live pid with
    another start time means the recorded session is empty. (When the leader has exited,
    its session's members are killed: only a process that took the pid, called ``setsid``
    and exited in the meantime could have left others in a session of that id.)"""
    now = start_time(leader.pid)
    if now is not None and now != leader.started:
        return []
    members = session_members(leader.pid)
    if now is not None:  # the leader itself still runs: its whole group goes too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader.pid, signal.SIGKILL)
    for pid in members:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    _wait_gone(members)
    if members:
        log.info("stopped session %d left by a killed swarm: pids %s", leader.pid, members)
    return members


def alive_of(pids: list[int]) -> list[Proc]:
    """The processes ``pids`` that run now, each named with its start time."""
    found = [Proc(pid, start_time(pid) or "") for pid in pids]
    return [proc for proc in found if proc.started and proc.alive()]


def end_processes(procs: list[Proc], grace_s: float) -> list[int]:
    """Processes that were asked to end (a SIGHUP): those still running after ``grace_s``
    get SIGTERM, and SIGKILL after another ``grace_s``; the pids that had to be signalled.
    A pid the kernel gave to another process since is never touched (its start time)."""
    signalled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + grace_s
        while (left := [p for p in procs if p.alive()]) and time.monotonic() < deadline:
            time.sleep(0.05)
        for proc in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signum)
            signalled += [proc.pid] if proc.pid not in signalled else []
        procs = left
    _wait_gone([p.pid for p in procs])
    return signalled


def _wait_gone(pids: list[int]) -> None:
    """Wait until the killed processes have exited (a SIGKILL is delivered asynchronously:
    one may still finish the write it was in)."""
    deadline = time.monotonic() + GONE_WAIT_S
    while time.monotonic() < deadline:
        if not [p for p in pids if stat_fields(p) is not None and not _zombie(p)]:
            return
        time.sleep(0.02)
    log.warning("processes %s still running %g s after SIGKILL", pids, GONE_WAIT_S)
