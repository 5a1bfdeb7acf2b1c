"""The tmux sessions ``swarm desktop up`` runs the terminal agents in (``swarm-<agent>``).

Each swarm home has a tmux server of its own (:func:`home_socket`: ``$SWARM_HOME/tmux/swarm``),
so that two homes on one machine never share a session name, and a person's own sessions on
their default server are never touched; an agent whose agents file names a ``tmux_socket``
has its session on that server. ``tmux -S SOCKET attach -t swarm-Agent-1`` (what
:func:`attach_line` says) shows the agent from any terminal. Sessions an older swarm started
on the default server are found by the home in their environment (:func:`home_sessions`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InvalidState, MissingDependency
from core.privacy.files import make_dirs
from core.workspaces import alive_of, end_processes, pid_alive, session_members

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
END_GRACE_S = 1.0  # from the session's end to SIGTERM for what outlived it (then SIGKILL)
PREFIX = "swarm-"  # every session swarm starts
SOCKET_MAX = 100  # bytes: a Unix socket's path holds at most 107 (108 with its NUL)
HOME_VARIABLE = "SWARM_HOME"  # in each session's environment: the home that started it


@dataclass(frozen=True)
class Server:
    """One tmux server: its socket (``tmux -S``), or None: the person's default server (where
    an older swarm started its sessions); ``env``: the environment its clients run with."""

    socket: str | None
    env: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    chosen: bool = field(default=False, compare=False)  # swarm chose the socket's place

    def args(self, *args: str) -> list[str]:
        """``[-S SOCKET] ARGS``: a tmux client's arguments on this server."""
        return [*(["-S", self.socket] if self.socket else []), *args]

    @property
    def said(self) -> str:
        """The server in words: ``tmux server /home/me/.swarm/tmux/swarm``."""
        return f"tmux server {self.socket}" if self.socket else "your default tmux server"


@dataclass(frozen=True)
class Pane:
    """The first pane of a session: its process and whether it still runs."""

    pid: int
    command: str
    dead: bool
    target: str  # "session:window" for the agents file's ``tmux`` key


@dataclass(frozen=True)
class Session:
    """A ``swarm-*`` session found on a server: its first pane and the home that started it
    (its ``SWARM_HOME``; None: not said, not swarm's)."""

    name: str
    server: Server
    pane: Pane
    home: str | None


def session_name(agent: str) -> str:
    """``swarm-<agent>`` (agent ids never hold the ``.`` or ``:`` tmux reads as separators)."""
    return PREFIX + agent.replace(".", "_").replace(":", "_")


def home_socket(home: Path, env: Mapping[str, str]) -> str:
    """The socket of ``home``'s own tmux server: ``$SWARM_HOME/tmux/swarm``; where that path
    is too long for a Unix socket, ``swarm-<hash of the home>`` in tmux's own folder of this
    user (``$TMUX_TMPDIR/tmux-UID``, else, or when that is too long too, ``/tmp/tmux-UID``)."""
    path = str(home.absolute() / "tmux" / "swarm")
    if len(os.fsencode(path)) <= SOCKET_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(str(home.absolute()))).hexdigest()[:16]
    for base in (env.get("TMUX_TMPDIR") or "/tmp", "/tmp"):  # a long TMUX_TMPDIR: /tmp's
        short = str(Path(base) / f"tmux-{os.getuid()}" / f"swarm-{digest}")
        if len(os.fsencode(short)) <= SOCKET_MAX:
            return short
    return short


def server_of(socket: str | None, home: Path, env: Mapping[str, str]) -> Server:
    """The server of an agent whose agents file names ``socket`` (None: the home's own)."""
    return Server(socket, env) if socket else Server(home_socket(home, env), env, chosen=True)


def default_socket(env: Mapping[str, str]) -> str:
    """The socket of the person's default tmux server (``$TMUX_TMPDIR/tmux-UID/default``)."""
    return str(Path(env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / "default")


def same_server(one: Server, other: Server) -> bool:
    """Whether two servers are one (a socket named as the default server's is it)."""

    def path(server: Server) -> str:
        return os.path.realpath(server.socket or default_socket(server.env))

    return path(one) == path(other)


def same_home(said: str, home: Path) -> bool:
    """Whether a session's ``SWARM_HOME`` is ``home``."""
    return os.path.abspath(said) == os.path.abspath(home)


def prepare_socket(server: Server) -> None:
    """The folder of ``server``'s socket made (0700); where swarm chose it, InvalidState
    when it is another user's or others may enter it (a socket there would hand them the
    agents' panes). A socket the agents file names is where its person put it."""
    if server.socket is None:
        return
    folder = Path(server.socket).parent
    make_dirs(folder)
    if not server.chosen:
        return
    found = folder.stat()
    if found.st_uid != os.getuid() or stat.S_IMODE(found.st_mode) & 0o077:
        raise InvalidState(
            f"the tmux socket's folder {folder} is not yours alone (chmod 700 it, or name "
            "another tmux_socket in the agents file)"
        )


def typed(server: Server, *args: str) -> str:
    """A tmux command on ``server`` as a person types it."""
    return shlex.join(["tmux", *server.args(*args)])


def attach_line(server: Server, name: str) -> str:
    """What a person types to look at session ``name``."""
    return typed(server, "attach", "-t", name)


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


def _tmux(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tmux(), *server.args(*args)],
        env=client_env(server.env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


def _tmux_stdin(server: Server, words: list[str]) -> subprocess.CompletedProcess[str]:
    """One tmux command given on tmux's standard input (``source-file -``), each word in
    tmux's double quotes: its arguments (a secret among them) are on no command line that
    ``ps`` shows."""
    line = " ".join(_quoted(word) for word in words) + "\n"
    return subprocess.run(  # the server started first when none runs
        [require_tmux(), *server.args("start-server", ";", "source-file", "-")],
        env=client_env(server.env),
        input=line,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def _quoted(word: str) -> str:
    """``word`` in tmux's double quotes: ``\\``, ``"`` and ``$`` escaped (no expansion)."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def exists(server: Server, name: str) -> bool:
    """True when the session runs."""
    return _tmux(server, "has-session", "-t", f"={name}").returncode == 0


def pane(server: Server, name: str) -> Pane | None:
    """The session's first pane, or None when the session does not run."""
    fields = "#{pane_pid}\t#{pane_current_command}\t#{pane_dead}\t#{window_index}"
    done = _tmux(server, "list-panes", "-s", "-t", f"={name}", "-F", fields)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    pid, command, dead, window = done.stdout.splitlines()[0].split("\t")
    return Pane(int(pid), command, dead == "1", f"{name}:{window}")


def session_home(server: Server, name: str) -> str | None:
    """The ``SWARM_HOME`` in session ``name``'s environment (None: not set, no session)."""
    done = _tmux(server, "show-environment", "-t", f"={name}", HOME_VARIABLE)
    key, sign, value = done.stdout.strip().partition("=")
    return value if done.returncode == 0 and sign and key == HOME_VARIABLE else None


def sessions(server: Server) -> list[Session]:
    """The ``swarm-*`` sessions of ``server`` (none when no server runs there), each with the
    home that started it."""
    fields = "#{session_name}\t#{pane_pid}\t#{pane_current_command}\t#{pane_dead}\t#{window_index}"
    done = _tmux(server, "list-panes", "-a", "-F", fields)
    found: dict[str, Pane] = {}
    for row in done.stdout.splitlines() if done.returncode == 0 else ():
        name, pid, command, dead, window = (row.split("\t") + [""] * 5)[:5]
        if name.startswith(PREFIX) and pid.isdigit() and name not in found:
            found[name] = Pane(int(pid), command, dead == "1", f"{name}:{window}")
    return [Session(n, server, p, session_home(server, n)) for n, p in found.items()]


def home_sessions(servers: list[Server], home: Path) -> list[Session]:
    """The ``swarm-*`` sessions of ``home`` on ``servers``: on a server's own socket those
    its home started or whose home is not said; on the default server (an older swarm's)
    only those whose environment names ``home``: a person's own are never among them."""
    return [
        session
        for server in dict.fromkeys(servers)
        for session in sessions(server)
        if (session.home is not None and same_home(session.home, home))
        or (session.home is None and not same_server(server, Server(None, server.env)))
    ]


def start(
    server: Server,
    name: str,
    command: str,
    cwd: Path,
    extra: Mapping[str, str],
    private: Mapping[str, str] | None = None,
) -> Pane:
    """Start the session detached on ``server`` running ``command`` in ``cwd`` with ``extra``
    and ``private`` in its environment (``private``: values no command line may show, given
    to tmux on its standard input); its status line off (a clock there would look like
    activity); the server's focus events on (Claude Code and Codex ask the terminal for
    them)."""
    prepare_socket(server)
    args = ["new-session", "-d", "-s", name, "-c", str(cwd), "-x", "200", "-y", "50"]
    for key, value in {**extra, **(private or {})}.items():
        args += ["-e", f"{key}={value}"]
    done = _tmux_stdin(server, [*args, command]) if private else _tmux(server, *args, command)
    if done.returncode != 0:
        raise InvalidState(f"tmux could not start session {name}: {done.stderr.strip()}")
    status = _tmux(server, "set-option", "-t", f"={name}:", "status", "off")
    focus = _tmux(server, "set-option", "-s", "focus-events", "on")  # the CLIs ask for them
    found = pane(server, name)
    if found is None:  # (then the options could not be set either: not said)
        raise InvalidState(f"tmux session {name} ended at once: does `{command}` run in {cwd}?")
    if status.returncode != 0:
        log.warning("tmux status line of %s left on: %s", name, status.stderr.strip())
    if focus.returncode != 0:
        log.warning("tmux focus events left off: %s", focus.stderr.strip())
    return found


def kill(server: Server, name: str, grace_s: float = END_GRACE_S) -> bool:
    """End the session; False when it did not run. Its programs get SIGHUP; those of its
    panes (each pane's process session) still running ``grace_s`` later get SIGTERM, then
    SIGKILL: Gemini CLI 0.61 outlives its pane otherwise, at work on nothing."""
    fields = ("list-panes", "-s", "-t", f"={name}", "-F", "#{pane_pid}")
    leaders = [int(pid) for pid in _tmux(server, *fields).stdout.split() if pid.isdigit()]
    procs = alive_of([pid for leader in leaders for pid in session_members(leader)])
    ended = _tmux(server, "kill-session", "-t", f"={name}").returncode == 0
    signalled = end_processes(procs, grace_s)
    if signalled:
        log.info("%s: %d process(es) outlived the session: ended (pids %s)",
                 name, len(signalled), signalled)  # fmt: skip
    return ended


def attach_command(server: Server, name: str) -> list[str]:
    """What a terminal runs to show the session (and make it again if it just ended)."""
    return ["tmux", *server.args("-u", "new-session", "-A", "-s", name)]


def capture(server: Server, name: str) -> str:
    """The text the session's pane shows now ("" when it does not run)."""
    done = _tmux(server, "capture-pane", "-p", "-t", f"={name}:")
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
