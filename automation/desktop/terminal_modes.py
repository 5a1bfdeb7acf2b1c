"""Whether the program in a terminal window would take a multi-line paste as one input.

A terminal sends a paste as typed keys; each newline is an Enter. Programs that read a
multi-line input (the agent CLIs) turn on bracketed paste (xterm's mode 2004) and get the
paste wrapped, so its newlines stay in the input. A program reading lines in the terminal's
canonical mode (``python3 -c 'while 1: input()'``, ``read`` loops, ``cat``) cannot: the
kernel's line discipline ends a line at every newline, so a 34-line prompt becomes 34
submissions. That mode is visible from outside: the ``ICANON`` flag of the terminal's
termios, read through the pseudo-terminal of the window's process (xterm's ``_NET_WM_PID``).

What this cannot see: a program in raw mode that reads keys itself without bracketed paste
(readline with ``enable-bracketed-paste off``); the mode lives inside the terminal emulator.
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")


@dataclass(frozen=True)
class TerminalState:
    """The pseudo-terminal a window's program reads from, and how it reads."""

    tty: str  # /dev/pts/N
    foreground: str  # the name of the foreground process (/proc/<pid>/comm)
    canonical: bool  # ICANON: the kernel submits a line at each newline


def find_terminal(pid: int, proc: Path = PROC) -> tuple[int, str] | None:
    """The child of ``pid`` (a terminal emulator) that runs on a pseudo-terminal, and that
    terminal's path; None when there is none (not a terminal, another machine)."""
    for child in _children(pid, proc):
        tty = _tty_of(child, proc)
        if tty is not None:
            return child, tty
    return None


def read_state(child: int, tty: str, proc: Path = PROC) -> TerminalState | None:
    """How the program on ``tty`` reads now (``child``: the process started on it); None
    when the terminal cannot be opened (gone, no permission)."""

    try:
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        log.debug("terminal %s not opened: %s", tty, exc)
        return None
    try:
        lflag = termios.tcgetattr(fd)[3]
    except termios.error:
        return None
    finally:
        os.close(fd)
    name = _name(_foreground(child, proc) or child, proc)
    return TerminalState(tty, name, bool(lflag & termios.ICANON))


def _children(pid: int, proc: Path) -> list[int]:
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name), proc)
        if fields is not None and fields[1] == str(pid):
            found.append(int(entry.name))
    return sorted(found)


def _stat(pid: int, proc: Path) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, session, tty_nr, tpgid..."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _tty_of(pid: int, proc: Path) -> str | None:
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            target = os.readlink(proc / str(pid) / "fd" / str(fd))
            if target.startswith("/dev/pts/"):
                return target
    return None


def _foreground(pid: int, proc: Path) -> int | None:
    fields = _stat(pid, proc)
    if fields is None:
        return None
    tpgid = int(fields[5])
    return tpgid if tpgid > 0 else None


def _name(pid: int, proc: Path) -> str:
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return f"pid {pid}"
