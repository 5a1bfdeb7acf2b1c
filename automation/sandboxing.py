"""``desktop up`` of a sandboxed agent (``sandbox = true``): its door opened, its CLI's command
wrapped in ``bwrap`` (``core.sandbox``): the tmux session's command on the tmux route, the
command its protocol host spawns on the protocol route (the host stays outside, where swarm
reaches its socket)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from core import sandbox
from core.clis import AgentCli
from core.clis.logs import log_path
from core.errors import InvalidState, MissingDependency
from core.models import Sandbox
from core.privacy import files

DOOR_WAIT_S = 15.0


def require_bwrap(agent: str, env: Mapping[str, str] | None = None) -> str:
    """``bwrap``'s path; MissingDependency in one line naming the package."""
    found = sandbox.bwrap_path((os.environ if env is None else env).get("PATH"))
    if found is None:
        raise MissingDependency(sandbox.missing_line(agent))
    return found


def door_pid(home: Path, agent: str) -> int | None:
    """The pid of ``agent``'s running door, None when none runs."""
    return sandbox.running_door(home, agent)


def open_door(home: Path, agent: str, workspace: Path, env: Mapping[str, str]) -> Path:
    """Start ``agent``'s door unless it runs; its folder once its socket listens."""
    where = sandbox.door_folder(home, agent)
    if door_pid(home, agent) is not None:
        return where
    files.make_dirs(where.parent)
    argv = [sys.executable, "-m", sandbox.DOOR_MODULE, "--home", str(home), "--agent", agent,
            "--workspace", str(workspace)]  # fmt: skip
    with contextlib.suppress(FileNotFoundError):
        (where / sandbox.DOOR_SOCKET).unlink()
    log_fd = files.open_file(
        home / "doors" / f"{agent}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT
    )
    with os.fdopen(log_fd, "ab") as log_file:
        process = subprocess.Popen(
            argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True, cwd=str(workspace),
        )  # fmt: skip
    files.write_file(sandbox.door_pid_path(home, agent), str(process.pid).encode())
    deadline = time.monotonic() + DOOR_WAIT_S
    while not (where / sandbox.DOOR_SOCKET).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise InvalidState(f"{agent}'s door did not open: see {home}/doors/{agent}.log")
        time.sleep(0.05)
    return where


def close_doors(home: Path, agents: Sequence[str]) -> list[str]:
    """End the doors of ``agents``; one line each ended."""
    said = []
    for agent in agents:
        pid = door_pid(home, agent)
        if pid is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        said.append(f"{agent}: door closed")
    return said


def debug_log(home: Path, agent: str, cli: AgentCli | None) -> list[str]:
    """The debug log swarm names to ``cli`` at launch (``core.clis.logs.log_path``), made
    when missing so that it can be bound writable: that one file of swarm's home alone."""
    if cli is None or cli.debug_log is None:
        return []
    path = log_path(home, agent)
    files.make_dirs(path.parent)
    os.close(files.open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT))
    return [str(path)]


def wrap(
    agent: str,
    box: Sandbox,
    cli: AgentCli | None,
    workspace: Path,
    command: Sequence[str],
    env: Mapping[str, str],
    home: Path,
    seen: Sequence[str] | None = None,
    new_session: bool = False,
) -> list[str]:
    """``command`` run in ``agent``'s sandbox (its door opened first); ``seen``: the words
    whose programs it must be able to read (``command``'s own by default). InvalidState
    in one line for a sandbox path it may not have."""
    bwrap = require_bwrap(agent, env)
    user_home = Path(env.get("HOME") or Path.home()).resolve()
    space = workspace.resolve()
    try:
        sandbox.check_extra([*box.read, *box.write], user_home, home)
    except ValueError as exc:
        raise InvalidState(f"{agent}: {exc}") from None
    state = sandbox.state_paths(cli.state if cli else (), user_home)
    state += debug_log(home, agent, cli)
    programs = sandbox.program_paths(seen if seen is not None else command, env)
    programs += sandbox.interpreter_paths(sys.executable, sys.base_prefix)
    door = open_door(home, agent, space, env)
    mounts = sandbox.mounts(
        space, user_home, box, state, programs, door, env.get("PATH", "/usr/bin:/bin")
    )
    return sandbox.bwrap_argv(mounts, command, new_session, bwrap)


def wrap_line(
    agent: str,
    box: Sandbox,
    cli: AgentCli | None,
    workspace: Path,
    line: str,
    env: Mapping[str, str],
    home: Path,
) -> str:
    """A tmux session's shell line run in the sandbox (``sh -c`` inside; the pane keeps its
    terminal: no new session)."""
    argv = wrap(agent, box, cli, workspace, ["/bin/sh", "-c", line], env, home,
                seen=shlex.split(line))  # fmt: skip
    return shlex.join(argv)
