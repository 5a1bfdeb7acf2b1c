"""Starting and stopping protocol hosts (``swarm desktop up --protocol`` / ``down``).

A host is started in its own session (``setsid``), detached from the terminal and from the
swarm process that started it, so that neither's end ends the agent; its log is
``$SWARM_HOME/hosts/<agent>.log``. ``start`` returns once the host said its session is open,
or raises ``HostStartError`` with the host's own reason (the agent did not start, the
session failed) in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.hosts import client, entries, wire
from core.hosts.entries import Entry, Exited, HostError, Ready
from core.hosts.replies import HostHello
from core.hosts.running import HOST_MODULE, host_pid, log_path, pid_path
from core.privacy import files
from core.processes import started

START_S = 150.0  # the host's start: the CLI's own start and its session (Node CLIs: seconds)
LISTEN_S = 10.0  # a host just started: until it listens on its socket
STOP_S = 10.0


class HostStartError(Exception):
    """A host that did not come up, and why (one line)."""


async def start(
    home: Path,
    agent: str,
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    mcp: Sequence[Mapping[str, Any]] = (),
    protocol: str = "acp",
    wait_s: float = START_S,
    nice: int = 0,
    cumulative_usage: bool = False,
    answer_s: float = client.WAIT_S,
) -> HostHello:
    """Start ``agent``'s host running ``command`` (the CLI in its protocol's mode, ``acp``
    or ``stream-json``) in ``cwd``, the CLI ``nice`` below the host's CPU priority (and,
    ``cumulative_usage``, its turn end's usage its session's running total: the host
    journals each turn's own); its hello once the session is open. A host already running
    is left as it is (its hello), unless its agent exited (a host outlives its CLI to say
    why) and swarm has all its journal (``acked``: nothing it holds is lost): that one is
    ended and a new one started, which loads the session where the CLI can. A running host
    that has not answered its hello in ``answer_s`` is an error."""
    hello = await _running_hello(home, agent, answer_s)
    if hello is not None:
        if hello.exit_code is None or hello.acked < hello.seq:  # swarm has not read it all
            return hello
        await stop(home, agent)
    files.make_dirs(wire.folder(home))
    seen = _journal_size(home, agent)
    argv = [sys.executable, "-I", "-m", HOST_MODULE, "--home", str(home), "--agent", agent,
            "--cwd", str(cwd), "--mcp", json.dumps(list(mcp)), "--protocol", protocol,
            "--nice", str(nice), *(["--cumulative-usage"] if cumulative_usage else []), "--",
            *command]  # fmt: skip
    process = _spawn(home, agent, argv, home, env)  # (isolated, outside the agent's folder)
    return await _wait_ready(home, agent, process, seen, wait_s)


async def _running_hello(home: Path, agent: str, answer_s: float) -> HostHello | None:
    """The hello of ``agent``'s running host; None when none runs. One started a moment ago
    is waited for until it listens (``LISTEN_S``). One that runs but does not answer is an
    error: a second host beside it would run a second agent in the same folder, on the same
    session, while the first lives on unseen."""
    deadline = time.monotonic() + LISTEN_S
    while (pid := host_pid(home, agent)) is not None:
        try:
            return await client.hello(home, agent, answer_s)
        except client.HostUnreachable as exc:
            if host_pid(home, agent) is None:
                return None  # it ended meanwhile
            if not exc.gone or time.monotonic() >= deadline:
                raise HostStartError(
                    f"{agent}'s protocol host (pid {pid}) runs but does not answer ({exc}): "
                    f"swarm desktop down ends it; its log: {log_path(home, agent)}"
                ) from None
        await asyncio.sleep(0.2)
    return None


def _spawn(
    home: Path, agent: str, argv: list[str], cwd: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """The host process, in its own session, its output in its log; its pid file written."""
    log_file = files.open_file(log_path(home, agent), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.fchmod(log_file, files.FILE_MODE)
    with os.fdopen(log_file, "ab") as log:
        process = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    files.write_file(pid_path(home, agent), f"{process.pid} {started(process.pid)}".encode())
    return process


async def _wait_ready(
    home: Path, agent: str, process: subprocess.Popen[bytes], seen: int, wait_s: float
) -> HostHello:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for entry in _journal_since(home, agent, seen):
            match entry.body:
                case Ready():
                    return await client.hello(home, agent)
                case HostError(message=message):
                    _reap(process)
                    raise HostStartError(f"{agent}: {message or 'its host failed'}")
                case Exited(code=code):
                    _reap(process)
                    raise HostStartError(f"{agent}: its agent exited ({code})")
        if process.poll() is not None:
            raise HostStartError(
                f"{agent}'s protocol host exited ({process.returncode}) before its session "
                f"opened: see {log_path(home, agent)}"
            )
        await asyncio.sleep(0.1)
    _reap(process)
    raise HostStartError(f"{agent}'s agent did not open its session in {wait_s:g} s")


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_S)


def _journal_size(home: Path, agent: str) -> int:
    try:
        return wire.journal_path(home, agent).stat().st_size
    except OSError:
        return 0


def _journal_since(home: Path, agent: str, offset: int) -> list[Entry]:
    try:
        with wire.journal_path(home, agent).open("rb") as journal:
            journal.seek(offset)
            lines = journal.read().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        with contextlib.suppress(ValueError):
            found.append(entries.read(wire.decode(line)))
    return found


async def stop(home: Path, agent: str) -> bool:
    """End ``agent``'s host and its agent; True when one was running."""
    pid = host_pid(home, agent)
    if pid is None:
        return False
    with contextlib.suppress(client.HostUnreachable):
        await client.stop(home, agent, wait_s=STOP_S)
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline and host_pid(home, agent) is not None:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # another process: nothing to wait on but its pid
    if host_pid(home, agent) is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        pid_path(home, agent).unlink()
    return True
