"""Where a command's CPU goes, process by process: each process it started, with its CPU.

Runs a command (a pytest of a few tests, say) as a child in a cgroup of its own and splits
the CPU it used by process:

    python tools/proc_cpu.py --out /tmp/run -- .venv/bin/python -m pytest -n 0 tests/x.py

How it counts, as root: the kernel's process accounting (``acct(2)``) writes one record per
process as it exits, with its user and system time (every thread's), its pid, its parent's
pid and its name; this program is a child subreaper, so a process whose parent died first
(a daemon: a tmux server, a protocol host) names this program as its parent, and the
command's whole tree is the records reached from the child by parent pids. A poller reads
the cgroup's processes every 50 ms for their command lines (a process that lives less is
named by its record and its parent). The cgroup's ``cpuacct.usage`` is the total the
records are checked against. Under ``-p tools.proc_cpu`` each test's cgroup CPU is written
too (``$PROC_CPU_TESTS``). Writes ``procs.tsv`` (a process a line) and ``tests.tsv`` into
``--out``, and prints CPU by kind of process. Records are machine-wide while it runs: one at
a time. Asserts nothing.

    python tools/proc_cpu.py --report /tmp/run   # the table again, from the files
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import ctypes
import os
import re
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CGROUP = Path("/sys/fs/cgroup/cpuacct")
RECORD = struct.Struct("<BBHIIIIIIfHHHHHHHH16s")  # struct acct_v3
AHZ = 100
PR_SET_CHILD_SUBREAPER = 36
POLL_S = 0.05
KINDS = (  # first match of a process's program (its head, below) wins
    ("tmux", r"^tmux"),
    ("bwrap", r"^bwrap"),
    ("git", r"^git\b|^git-"),
    ("Xvfb/X", r"^(Xvfb|openbox|xterm|kitty|xdotool|xsel|xclip|xprop|xwininfo|wmctrl)\b"),
    ("postgres", r"^(postgres|initdb|pg_ctl|psql)\b"),
    ("browser", r"chrom|playwright|headless_shell"),
    ("pytest", r"^python\S* pytest\b|^pytest\b"),
    ("cli zygote", r"tests\.cli_zygote"),
    ("test apps", r"tests\.apps"),
    ("swarm hook", r"bot\.cli\.hook|bot\.cli(\.main)? hook\b|^swarm hook\b"),
    ("protocol host", r"bot\.protocol_host"),
    ("swarm mcp", r"bot\.cli(\.main)? mcp\b|^swarm mcp\b"),
    ("swarm door", r"bot\.door|_door"),
    ("gateway", r"gateway"),
    ("swarm run", r"bot\.cli(\.main)? run\b|^swarm run\b"),
    ("swarm (other)", r"^swarm\b|bot\.cli|bench/"),
    ("localmodel", r"localmodel"),
    ("local servers", r"local(discord|telegram|slack|github)"),
    ("gemini", r"gemini"),
    ("qwen", r"qwen"),
    ("claude", r"claude"),
    ("codex", r"codex"),
    ("opencode", r"opencode"),
    ("aider", r"aider"),
    ("vibe", r"vibe"),
    ("node (other)", r"^node\b"),
    ("python (other)", r"^python"),
    ("shell", r"^(ba|da|z)?sh\b"),
)


@dataclass
class Proc:
    """One process's record, named."""

    pid: int
    ppid: int
    start: float  # seconds since the epoch (whole seconds: the record's)
    end: float
    cpu: float  # seconds, user + system, all its threads
    comm: str
    forked: bool  # forked and never ran another program
    cmdline: str = ""
    kind: str = ""


def head(text: str) -> str:
    """A command line's program and its first three words that are no option nor a path
    under /tmp (``python -I -m bot.cli run --no-discord``: ``python bot.cli run``): what
    names a process, not its arguments' values."""
    tokens = text.split()
    if not tokens:
        return ""
    words = [t for t in tokens[1:] if not t.startswith(("-", "/tmp/")) and "=" not in t]
    return " ".join([tokens[0].rsplit("/", 1)[-1], *words[:3]])


def kind_of(text: str) -> str:
    """A process's kind, from its command line or its name."""
    named = head(text)
    return next((kind for kind, pattern in KINDS if re.search(pattern, named)), "other")


def _comp(value: int) -> float:
    """A ``comp_t``: 13 bits of mantissa, 3 of base-8 exponent, in AHZ ticks."""
    return (value & 0x1FFF) << (3 * (value >> 13))


def records(path: Path) -> list[Proc]:
    """The accounting file's version-3 records."""
    found = []
    data = path.read_bytes()
    for offset in range(0, len(data) - RECORD.size + 1, RECORD.size):
        fields = RECORD.unpack_from(data, offset)
        flag, version, _tty, _exit, _uid, _gid, pid, ppid, btime, etime = fields[:10]
        if version & 0x0F != 3:
            continue
        utime, stime, comm = fields[10], fields[11], fields[-1]
        name = comm.split(b"\0", 1)[0].decode("utf-8", "replace")
        cpu = (_comp(utime) + _comp(stime)) / AHZ
        end = btime + etime / AHZ
        found.append(Proc(pid, ppid, float(btime), end, cpu, name, bool(flag & 0x01)))
    return found


def tree(procs: list[Proc], root: int, reaper: int, since: float) -> list[Proc]:
    """The records of ``root``'s processes: reached by parent pids from it, or orphans that
    named the subreaper; a parent counts only while it lived (pids come round again)."""
    chosen: dict[int, Proc] = {}
    by_pid: dict[int, list[Proc]] = collections.defaultdict(list)
    for proc in procs:
        by_pid[proc.pid].append(proc)
    changed = True
    while changed:
        changed = False
        for proc in procs:
            if id(proc) in chosen or proc.start < since - 1:
                continue
            mine = proc.pid == root or proc.ppid == reaper
            if not mine:
                mine = any(
                    id(parent) in chosen and parent.start - 1 <= proc.end <= parent.end + 1
                    for parent in by_pid.get(proc.ppid, ())
                )
            if mine:
                chosen[id(proc)] = proc
                changed = True
    return list(chosen.values())


class Poller(threading.Thread):
    """Reads the cgroup's processes' command lines every ``POLL_S``, by pid and start."""

    def __init__(self, group: Path) -> None:
        super().__init__(daemon=True)
        self.group = group
        self.seen: dict[int, list[tuple[float, str]]] = collections.defaultdict(list)
        self.done = threading.Event()
        self.boot = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
        self.hz = os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self.done.wait(POLL_S):
            with contextlib.suppress(OSError):
                for pid in map(int, (self.group / "cgroup.procs").read_text().split()):
                    self._look(pid)

    def _look(self, pid: int) -> None:
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            start = self.boot + int(stat.rsplit(")", 1)[1].split()[19]) / self.hz
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            line = " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())[:300]
            seen = self.seen[pid]
            if line and (not seen or abs(seen[-1][0] - start) > 1 or seen[-1][1] != line):
                seen.append((start, line))

    def command_of(self, proc: Proc) -> str:
        """The last command line seen for this process (its pid, started when it did)."""
        lines = [
            line for start, line in self.seen.get(proc.pid, ()) if abs(start - proc.start) <= 1.5
        ]
        return lines[-1] if lines else ""


def _accounting(path: Path | None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.acct(str(path).encode() if path else None) != 0:
        raise OSError(ctypes.get_errno(), "acct", str(path))


def run(command: list[str], out: Path, processes: bool = True) -> int:
    """Runs ``command`` counted (by process unless not ``processes``: the cgroup's total
    only, which another run's accounting does not disturb); writes ``procs.tsv``; returns
    its exit status."""
    out.mkdir(parents=True, exist_ok=True)
    group = CGROUP / f"proc_cpu-{os.getpid()}"
    group.mkdir()
    acct_file = out / "acct"
    acct_file.write_bytes(b"")
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    poller = Poller(group)
    since = time.time()
    if processes:
        _accounting(acct_file)
    env = dict(os.environ, PROC_CPU_TESTS=str(out / "tests.tsv"), PROC_CPU_GROUP=str(group))
    poller.start()
    try:
        child = subprocess.Popen(
            command, env=env, preexec_fn=lambda: (group / "cgroup.procs").write_text("0")
        )
        status = child.wait()
        _reap_orphans(group)
    finally:
        usage = int((group / "cpuacct.usage").read_text()) / 1e9
        if processes:
            _accounting(None)
        poller.done.set()
        poller.join()
    procs = tree(records(acct_file), child.pid, os.getpid(), since)
    for proc in procs:
        proc.cmdline = poller.command_of(proc)
    with open(out / "procs.tsv", "w", encoding="utf-8") as tsv:
        tsv.write(f"# cgroup\t{usage:.2f}\twall\t{time.time() - since:.1f}\n")
        for p in sorted(procs, key=lambda p: p.start):
            tsv.write(f"{p.pid}\t{p.ppid}\t{p.start:.0f}\t{p.end:.2f}\t{p.cpu:.2f}\t"
                      f"{p.comm}\t{int(p.forked)}\t{p.cmdline}\n")  # fmt: skip
    with open(out / "seen.tsv", "w", encoding="utf-8") as tsv:  # what the poller read
        for pid, lines in poller.seen.items():
            tsv.writelines(f"{pid}\t{start:.2f}\t{line}\n" for start, line in lines)
    with contextlib.suppress(OSError):
        group.rmdir()
    acct_file.unlink()
    return status


def _reap_orphans(group: Path, wait_s: float = 10.0) -> None:
    """Waits for what the command left running in its cgroup (a daemon it did not stop)."""
    deadline = time.monotonic() + wait_s
    while (group / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        time.sleep(0.1)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _name(procs: list[Proc]) -> None:
    """Each process's kind: by its command line, else by its name; a fork that ran nothing
    else is its parent's kind (a zygote's child is a swarm command)."""
    by_pid = {p.pid: p for p in procs}
    for proc in sorted(procs, key=lambda p: p.start):
        text = proc.cmdline or proc.comm
        proc.kind = kind_of(text)
        parent = by_pid.get(proc.ppid)
        if proc.forked and parent is not None and not proc.cmdline:
            proc.kind = parent.kind
        if proc.kind == "cli zygote" and proc.forked:
            proc.kind = "swarm (zygote fork)"


def report(out: Path) -> None:
    """CPU by kind of process, then the tests by cgroup CPU."""
    lines = (out / "procs.tsv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    usage, wall = float(head[1]), float(head[3])
    procs = []
    for line in lines[1:]:
        pid, ppid, start, end, used, comm, forked, cmdline = line.split("\t", 7)
        procs.append(Proc(int(pid), int(ppid), float(start), float(end), float(used), comm,
                          forked == "1", cmdline))  # fmt: skip
    _name(procs)
    kinds: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for proc in procs:
        kinds[proc.kind][0] += proc.cpu
        kinds[proc.kind][1] += 1
    counted = sum(cpu for cpu, _ in kinds.values())
    print(f"{out}: cgroup {usage:.1f} CPU-s, processes' records {counted:.1f}, wall {wall:.0f} s")
    for kind, (cpu, count) in sorted(kinds.items(), key=lambda k: -k[1][0]):
        print(f"  {cpu:7.1f}  {cpu / max(counted, 1e-9):5.1%}  {int(count):5d}  {kind}")
    tests = out / "tests.tsv"
    if tests.exists():
        print("tests (cgroup CPU-s, wall s):")
        for line in tests.read_text(encoding="utf-8").splitlines():
            used, spent, nodeid = line.split("\t", 2)
            print(f"  {float(used):6.1f} {float(spent):6.1f}  {nodeid[:110]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Under ``proc_cpu``: each test's cgroup CPU (setup, call, teardown) and wall time."""
    path, group = os.environ.get("PROC_CPU_TESTS"), os.environ.get("PROC_CPU_GROUP")
    usage = Path(group or "/nonexistent") / "cpuacct.usage"
    start, used = time.time(), int(usage.read_text()) if group else 0
    try:
        return (yield)
    finally:
        if path and group:
            cpu = (int(usage.read_text()) - used) / 1e9
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"{cpu:.2f}\t{time.time() - start:.2f}\t{item.nodeid}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, help="the folder for procs.tsv and tests.tsv")
    parser.add_argument("--report", type=Path, help="print a run's table again")
    parser.add_argument("--total", action="store_true", help="the cgroup's CPU only, no acct")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.report:
        report(args.report)
        return
    status = run(args.command, args.out, processes=not args.total)
    report(args.out)
    sys.exit(status)


if __name__ == "__main__":
    main()
