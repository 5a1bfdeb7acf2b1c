"""Which protocol hosts run: each host's pid file (with its process's start time, so a reused
pid is no host) and log, and whether a process is a host and whose. Read by swarm's side (the
watch, identity, status) and by the route that starts and stops hosts
(``automation.protocol.launch``)."""

from __future__ import annotations

from pathlib import Path

from core.hosts import wire
from core.processes import command_line, started

HOST_MODULE = "bot.protocol_host"  # the host's program, in every host's command line


def pid_path(home: Path, agent: str) -> Path:
    """The host's pid file."""
    return wire.stem(home, agent).with_suffix(".pid")


def log_path(home: Path, agent: str) -> Path:
    """The host's log (its own and the agent's standard error)."""
    return wire.stem(home, agent).with_suffix(".log")


def host_pid(home: Path, agent: str) -> int | None:
    """The pid of ``agent``'s running host, or None: no pid file, that process is gone, or
    it is not ``agent``'s host (a pid file left by a host that ended, after a reboot: its
    pid may be another process's now, which is no agent's and never stopped as one)."""
    try:
        words = pid_path(home, agent).read_text(encoding="utf-8").split()
        pid, when = int(words[0]), words[1] if len(words) > 1 else None
    except (OSError, ValueError, IndexError):
        return None
    if when is not None and started(pid) != when:
        return None  # another process has its pid now (a reboot), whatever its name
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:  # a zombie has ended
        return None
    return pid if _runs_host(pid, agent) else None


def _runs_host(pid: int, agent: str) -> bool:
    """Whether process ``pid`` runs ``agent``'s host (its command line, as ``start`` made
    it: ``-m bot.protocol_host ... --agent AGENT``)."""
    return hosted_agent(pid) == agent


def hosted_agent(pid: int) -> str | None:
    """The agent whose protocol host process ``pid`` is (of any swarm home), None: it is no
    host."""
    args = command_line(pid)
    if HOST_MODULE not in args or "--agent" not in args:
        return None
    at = args.index("--agent") + 1
    return args[at] if at < len(args) else None
