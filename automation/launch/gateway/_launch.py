"""Starting, finding and stopping the gateway process, as the protocol hosts are
(``automation.protocol.launch``): in its own session, so that the end of the ``swarm``
process that started it does not end it; its output in a log; found again by its pid file,
whose start time tells a reused pid apart, and by its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from automation.launch.gateway._main import MODULE
from core.privacy import files
from core.processes import command_line, started

START_S = 30.0
STOP_S = 10.0
# the processes this one started, kept to be reaped when stopped (a dropped Popen of a
# running process is a ResourceWarning; a stopped child not waited for, a zombie)
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class GatewayStartError(Exception):
    """A gateway process that did not come up, and why (one line)."""


def gateway_pid(pid_file: Path) -> int | None:
    """The pid of the gateway process ``pid_file`` names, None: no file, that process is
    gone, or it is another process now (a reboot) or no gateway."""
    try:
        words = pid_file.read_text(encoding="utf-8").split()
        pid, when = int(words[0]), words[1]
    except (OSError, ValueError, IndexError):
        return None
    if started(pid) != when:
        return None
    args = command_line(pid)
    spec_given = "--pid-file" in args and str(pid_file) in args
    return pid if MODULE in args and spec_given else None


async def start(
    spec_file: Path, pid_file: Path, log_file: Path, env: Mapping[str, str],
    wait_s: float = START_S,
) -> int:  # fmt: skip
    """Start the gateway for ``spec_file`` with ``env`` (which holds the keys), unless one
    runs for ``pid_file``; its pid once every socket listens (its pid file written)."""
    running = gateway_pid(pid_file)
    if running is not None:
        return running
    with contextlib.suppress(FileNotFoundError):
        os.unlink(pid_file)
    _reap()
    argv = [sys.executable, "-I", "-m", MODULE, "--spec", str(spec_file),
            "--pid-file", str(pid_file)]  # fmt: skip
    process = _spawn(argv, env, log_file)
    _CHILDREN[process.pid] = process
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if gateway_pid(pid_file) == process.pid:
            return process.pid
        if process.poll() is not None:
            _CHILDREN.pop(process.pid, None)
            raise GatewayStartError(
                f"the gateway exited ({process.returncode}) before it listened: see {log_file}"
            )
        await asyncio.sleep(0.05)
    _end(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        _CHILDREN.pop(process.pid).wait(STOP_S)
    raise GatewayStartError(f"the gateway did not listen in {wait_s:g} s: see {log_file}")


async def stop(pid_file: Path) -> bool:
    """End the gateway ``pid_file`` names (SIGTERM, then SIGKILL after ``STOP_S``); True
    when one was running."""
    pid = gateway_pid(pid_file)
    if pid is None:
        return False
    _end(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline and gateway_pid(pid_file) == pid:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # another process: nothing to wait on but its pid
    if gateway_pid(pid_file) == pid:
        _end(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(STOP_S)
    return True


def _spawn(argv: list[str], env: Mapping[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """The process, in its own session, its output in ``log_file`` (0600)."""
    log_fd = files.open_file(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(log_fd, "ab") as log:
        return subprocess.Popen(
            argv, cwd="/", env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip


def _reap() -> None:
    """Forget (and wait for) the children that ended by themselves: a gateway that died
    while ``swarm run`` ran is no zombie of its for long."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)


def _end(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
