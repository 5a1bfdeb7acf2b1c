"""The tmux sessions ``swarm desktop up`` runs the terminal agents in (``swarm-<agent>``).

The user's own tmux server (``$TMUX_TMPDIR``, the default socket): ``tmux attach -t
swarm-Agent-1`` from any terminal shows the agent too.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidState, MissingDependency
from core.workspaces import alive_of, end_processes, pid_alive, session_members

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
END_GRACE_S = 1.0  # from the session's end to SIGTERM for what outlived it (then SIGKILL)


@dataclass(frozen=True)
class Pane:
    """The first pane of a session: its process and whether it still runs."""

    pid: int
    command: str
    dead: bool
    target: str  # "session:window" for the agents file's ``tmux`` key


def session_name(agent: str) -> str:
    """``swarm-<agent>`` (agent ids never hold the ``.`` or ``:`` tmux reads as separators)."""
    return "swarm-" + agent.replace(".", "_").replace(":", "_")


def require_tmux() -> str:
    """The tmux executable; MissingDependency saying how to install it."""
    found = shutil.which("tmux")
    if found is None:
        raise MissingDependency(
            "tmux is not installed (apt-get install tmux): terminal agents run in tmux sessions"
        )
    return found


def client_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without ``TMUX`` (a client started inside tmux would refuse to attach)."""
    return {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}


def _tmux(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tmux(), *args],
        env=client_env(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


def _tmux_stdin(env: Mapping[str, str], words: list[str]) -> subprocess.CompletedProcess[str]:
    """One tmux command given on tmux's standard input (``source-file -``), each word in
    tmux's double quotes: its arguments (a secret among them) are on no command line that
    ``ps`` shows."""
    line = " ".join(_quoted(word) for word in words) + "\n"
    return subprocess.run(  # the server started first when none runs
        [require_tmux(), "start-server", ";", "source-file", "-"],
        env=client_env(env),
        input=line,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def _quoted(word: str) -> str:
    """``word`` in tmux's double quotes: ``\\``, ``"`` and ``$`` escaped (no expansion)."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def exists(env: Mapping[str, str], name: str) -> bool:
    """True when the session runs."""
    return _tmux(env, "has-session", "-t", f"={name}").returncode == 0


def pane(env: Mapping[str, str], name: str) -> Pane | None:
    """The session's first pane, or None when the session does not run."""
    fields = "#{pane_pid}\t#{pane_current_command}\t#{pane_dead}\t#{window_index}"
    done = _tmux(env, "list-panes", "-s", "-t", f"={name}", "-F", fields)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    pid, command, dead, window = done.stdout.splitlines()[0].split("\t")
    return Pane(int(pid), command, dead == "1", f"{name}:{window}")


def start(
    env: Mapping[str, str],
    name: str,
    command: str,
    cwd: Path,
    extra: Mapping[str, str],
    private: Mapping[str, str] | None = None,
) -> Pane:
    """Start the session detached running ``command`` in ``cwd`` with ``extra`` and
    ``private`` in its environment (``private``: values no command line may show, given to
    tmux on its standard input); its status line off (a clock there would look like
    activity); the server's focus events on (Claude Code and Codex ask the terminal for
    them)."""
    args = ["new-session", "-d", "-s", name, "-c", str(cwd), "-x", "200", "-y", "50"]
    for key, value in {**extra, **(private or {})}.items():
        args += ["-e", f"{key}={value}"]
    done = _tmux_stdin(env, [*args, command]) if private else _tmux(env, *args, command)
    if done.returncode != 0:
        raise InvalidState(f"tmux could not start session {name}: {done.stderr.strip()}")
    status = _tmux(env, "set-option", "-t", f"={name}:", "status", "off")
    if status.returncode != 0:
        log.warning("tmux status line of %s left on: %s", name, status.stderr.strip())
    focus = _tmux(env, "set-option", "-s", "focus-events", "on")  # the CLIs ask for them
    if focus.returncode != 0:
        log.warning("tmux focus events left off: %s", focus.stderr.strip())
    found = pane(env, name)
    if found is None:
        raise InvalidState(f"tmux session {name} ended at once: does `{command}` run in {cwd}?")
    return found


def kill(env: Mapping[str, str], name: str, grace_s: float = END_GRACE_S) -> bool:
    """End the session; False when it did not run. Its programs get SIGHUP; those of its
    panes (each pane's process session) still running ``grace_s`` later get SIGTERM, then
    SIGKILL: Gemini CLI 0.61 outlives its pane otherwise, at work on nothing."""
    fields = ("list-panes", "-s", "-t", f"={name}", "-F", "#{pane_pid}")
    leaders = [int(pid) for pid in _tmux(env, *fields).stdout.split() if pid.isdigit()]
    procs = alive_of([pid for leader in leaders for pid in session_members(leader)])
    ended = _tmux(env, "kill-session", "-t", f"={name}").returncode == 0
    signalled = end_processes(procs, grace_s)
    if signalled:
        log.info("%s: %d process(es) outlived the session: ended (pids %s)",
                 name, len(signalled), signalled)  # fmt: skip
    return ended


def attach_command(name: str) -> list[str]:
    """What a terminal runs to show the session (and make it again if it just ended)."""
    return ["tmux", "-u", "new-session", "-A", "-s", name]


def capture(env: Mapping[str, str], name: str) -> str:
    """The text the session's pane shows now ("" when it does not run)."""
    done = _tmux(env, "capture-pane", "-p", "-t", f"={name}:")
    return done.stdout if done.returncode == 0 else ""


# set where swarm runs (a CI job, a container's defaults), these make an agent CLI start
# non-interactive: Gemini CLI 0.61 with CI=true or GITHUB_ACTIONS=true reads no keys, finds no
# prompt and exits at once (the pane ended blank in every CI run of the real-Gemini GUI test)
NOT_INTERACTIVE = ("CI", "GITHUB_ACTIONS")


def server_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for starting sessions: ``env`` minus ``TMUX`` and the variables that
    say "no person here" (:data:`NOT_INTERACTIVE`: the agents are interactive CLIs), with a
    UTF-8 locale when none is set (tmux draws other characters as ``_`` otherwise)."""
    result = {k: v for k, v in client_env(env).items() if k not in NOT_INTERACTIVE}
    if not any("UTF-8" in result.get(k, "").upper() for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        result["LANG"] = "C.UTF-8"
    return result


alive = pid_alive  # the one check of a process, shared with the workspaces' manifest
