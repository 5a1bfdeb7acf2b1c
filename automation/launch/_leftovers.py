"""Agent CLI processes an earlier session left running in an agent's workspace: after a
crashed session old Gemini CLI processes may keep running, and a new session would start a
second Gemini in the same worktree. Before a session is started, the
processes of the agent's CLI whose working folder is its workspace are found (Linux:
``/proc``): those swarm started for this agent (``SWARM_AGENT`` and ``SWARM_HOME`` in their
environment, as every session sets them) are ended; one started otherwise (a person's own)
stops the start with one line naming it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidState
from core.settings import AGENT, HOME
from core.workspaces import PROC, Proc, end_processes, start_time

log = logging.getLogger(__name__)
END_GRACE_S = 2.0  # SIGTERM, then SIGKILL this long after
ARGV_WORDS = 3  # a CLI's program is among the first words (``node /path/gemini ...``)


@dataclass(frozen=True)
class Leftover:
    """One process of the agent's CLI running in its workspace."""

    proc: Proc
    command: str  # its program's name
    ours: bool  # swarm started it for this agent and home


def find(agent: str, home: Path, workspace: Path, programs: tuple[str, ...]) -> list[Leftover]:
    """The processes of ``programs`` whose working folder is ``workspace`` (this user's)."""
    folder = workspace.resolve()
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        program = _program(entry, programs)
        if program is None or _cwd(entry) != folder:
            continue
        started = start_time(int(entry.name))
        if started is None:
            continue
        env = _environ(entry)
        ours = env.get(AGENT.name) == agent and env.get(HOME.name) == str(home)
        found.append(Leftover(Proc(int(entry.name), started), program, ours))
    return found


def end_leftovers(agent: str, home: Path, workspace: Path, programs: tuple[str, ...]) -> list[str]:
    """End the processes an earlier session of ``agent`` left in ``workspace``; InvalidState
    (one line) when another process of its CLI runs there. What was ended, in words."""
    found = find(agent, home, workspace, programs)
    theirs = [f for f in found if not f.ours]
    if theirs:
        first = theirs[0]
        raise InvalidState(
            f"{agent}: {first.command} (pid {first.proc.pid}) already runs in {workspace}, not "
            f"started by swarm for {agent}: end it first (kill {first.proc.pid}), else two "
            f"{first.command} would share the folder"
        )
    if not found:
        return []
    for leftover in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(leftover.proc.pid, signal.SIGTERM)
    end_processes([f.proc for f in found], END_GRACE_S)
    pids = ", ".join(str(f.proc.pid) for f in found)
    log.info("%s: ended %d leftover process(es): %s", agent, len(found), pids)
    names = sorted({f.command for f in found})
    return [
        f"ended {len(found)} {'/'.join(names)} process(es) an earlier session left running in "
        f"{workspace} (pids {pids})"
    ]


def _program(entry: Path, programs: tuple[str, ...]) -> str | None:
    try:
        words = (entry / "cmdline").read_bytes().split(b"\0")[:ARGV_WORDS]
    except OSError:
        return None
    for word in words:
        name = Path(os.fsdecode(word)).name
        if name in programs:
            return name
    return None


def _cwd(entry: Path) -> Path | None:
    try:
        return Path(os.readlink(entry / "cwd")).resolve()
    except OSError:
        return None


def _environ(entry: Path) -> dict[str, str]:
    try:
        raw = (entry / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (os.fsdecode(item).partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}
