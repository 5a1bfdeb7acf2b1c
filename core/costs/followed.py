"""A wrapper script's CLI followed to its own folder. An agent whose command is no program of
its CLI's own (``cli_dir = ""``: a shell script that sets HOME, ``env`` with options) has
its CLI's process looked for under its root processes (its tmux pane, its window's process,
its protocol host: ``core.watch.usage_files`` finds them), that process's environment read
(the CLI's own variable, ``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``, else ``HOME``), and its
session files read in the folder it names, as for a direct command.

The environment is the agent's, so the folder is data: it is taken only from a process of
the user swarm runs as, and only when it resolves (its links checked, not followed blindly)
to a folder of that user outside ``/proc``, ``/sys`` and ``/dev``. What was followed is
recorded in the swarm home (``usage-folders/<agent>.json``, with the process's pid and start
time), so every command (``swarm agents explain``, ``desktop status``, the budgets) says the
same while that process runs; when it ends, the usage is unknown again until a later look
finds the next one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from core.clis.base import AgentCli
from core.formats.text import one_line
from core.privacy.files import make_dirs, write_file
from core.processes import command_line, descendants, environment, owner_of
from core.workspaces import Proc, start_time

FOLDER = "usage-folders"  # <home>/usage-folders/<agent>.json
INTERPRETER = re.compile(r"node|nodejs|bun|deno|python[0-9.]*")  # runs the CLI's script
SPECIAL = ("/proc", "/sys", "/dev")  # never a CLI's folder, whoever owns it
RECORD_MAX = 8192  # bytes of one record read, at most
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Followed:
    """The folder of an agent's CLI as its running process names it: ``via`` the variable
    that named it, the process by ``pid`` and ``started``."""

    folder: str
    via: str
    pid: int
    started: str

    def running(self) -> bool:
        """Whether the process that named the folder still runs (not a later one with its
        pid)."""
        return Proc(self.pid, self.started).alive()

    def said(self) -> str:
        """How it was found, in words."""
        return f"followed from its CLI's process (pid {self.pid}, its {self.via})"


def follow(cli: AgentCli, roots: Iterable[int]) -> Followed | str:
    """The folder of ``cli``'s session files as its process under ``roots`` names it, or
    why it cannot be known (one line): no process of the CLI there, one of another user,
    several naming different folders, or a folder refused."""
    if cli.sessions is None:
        return f"{cli.title} writes no session files swarm reads"
    uid = os.getuid()
    programs = tuple(p for p in (*cli.programs, cli.protocol_adapter) if p)
    found: dict[str, Followed] = {}
    refused = ""
    for pid in descendants(roots):
        if not _runs(pid, programs) or owner_of(pid) != uid:
            continue
        env = environment(pid)
        via = cli.sessions.config_env if env.get(cli.sessions.config_env, "").strip() else "HOME"
        named = cli.sessions.config_folder(env)
        checked = checked_folder(named, uid) if named is not None else "it has no HOME"
        started = start_time(pid)
        if started is None:
            continue  # ended since it was listed
        if isinstance(checked, str):
            refused = refused or f"{cli.title}'s process (pid {pid}) names no folder: {checked}"
            continue
        found.setdefault(str(checked), Followed(str(checked), via, pid, started))
    if len(found) == 1:
        return next(iter(found.values()))
    if found:
        return f"{len(found)} {cli.title} processes name different folders ({', '.join(found)})"
    return refused or f"no {cli.title} process ({'/'.join(programs)}) runs under it"


def _runs(pid: int, programs: tuple[str, ...]) -> bool:
    """Whether ``pid``'s program is one of ``programs``: its first word, or its second
    after an interpreter (``node /path/gemini``), never a later word (a wrapper's shell
    ``sh run-claude.sh claude`` is no Claude Code; Claude Code's npm package runs as
    ``bin/claude.exe``)."""
    words = [Path(word).name for word in command_line(pid)[:2]]
    if len(words) == 2 and not INTERPRETER.fullmatch(words[0]):
        words = words[:1]
    return any(word.removesuffix(".exe") in programs for word in words)


def checked_folder(named: Path, uid: int) -> Path | str:
    """``named`` resolved, when it is a folder of ``uid`` outside ``SPECIAL`` whose path
    prints as one line; else why not (one line). Its links are resolved here and the result
    checked: the resolved folder is the one read."""
    shown = one_line(str(named))[:200]
    if not named.is_absolute() or ".." in named.parts:
        return f"{shown!r} is no absolute path"
    real = Path(os.path.realpath(named))
    if one_line(str(real)) != str(real):
        return f"{shown} names a folder with control characters"
    if any(real == Path(s) or real.is_relative_to(s) for s in SPECIAL):
        return f"{shown} is under {real.parts[1] if len(real.parts) > 1 else '/'}"
    try:
        st = real.stat()
    except OSError:
        return f"{shown} is no folder here"
    if not real.is_dir():
        return f"{shown} is no folder"
    if st.st_uid != uid:
        return f"{shown} is not a folder of the user swarm runs as"
    return real


def record_path(home: Path, agent: str) -> Path:
    """Where what was followed for ``agent`` is recorded."""
    return home / FOLDER / f"{_SAFE.sub('_', agent)}.json"


def record(home: Path, agent: str, found: Followed | str | None) -> None:
    """Record what was followed for ``agent``, or why nothing could be (None: forget it),
    by an atomic replace."""
    path = record_path(home, agent)
    if found is None:
        path.unlink(missing_ok=True)
        return
    said = {"why": found[:500]} if isinstance(found, str) else asdict(found)
    data = json.dumps(said, sort_keys=True).encode()
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        make_dirs(path.parent)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    write_file(temporary, data)
    os.replace(temporary, path)


def recorded(home: Path | None, agent: str) -> Followed | str | None:
    """What was followed for ``agent`` (its process running or not: ``Followed.running``),
    or why nothing could be; None when nothing well formed is recorded."""
    if home is None:
        return None
    try:
        with open(record_path(home, agent), "rb") as f:
            raw = json.loads(f.read(RECORD_MAX))
        if isinstance(raw.get("why"), str):
            return str(raw["why"])
        found = Followed(str(raw["folder"]), str(raw["via"]), int(raw["pid"]), str(raw["started"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return found if Path(found.folder).is_absolute() else None


def running(home: Path | None, agent: str) -> Followed | None:
    """The folder followed for ``agent`` while the process that named it runs."""
    found = recorded(home, agent)
    return found if isinstance(found, Followed) and found.running() else None


def why_not(home: Path | None, agent: str) -> str | None:
    """Why ``agent``'s CLI could not be followed at the last look, in words (None: it was,
    or no look was recorded)."""
    found = recorded(home, agent)
    if isinstance(found, Followed):
        return None if found.running() else f"its CLI's process (pid {found.pid}) has ended"
    return found
