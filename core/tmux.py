"""tmux panes: the agents file's ``tmux = "session:window[.pane]"`` and reading a pane's text.

The text comes from the tmux CLI (``tmux [-S socket] capture-pane -p -J -t TARGET``): the
visible screen of the pane, wrapped lines joined, without colours; several panes of one tmux
server are read by one client (``capture_all``). A pane that cannot be read
(its session, window or pane is gone, no tmux server runs) is not an error but evidence:
``PaneText.gone`` says so in plain words ("tmux pane swarm:3 is gone: can't find window: 3").
Blocking calls: run them off the event loop.
"""

from __future__ import annotations

import re
import subprocess
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import processes
from core.formats.text import escape_controls

TMUX = "tmux"
CAPTURE_TIMEOUT_S = 2.0  # one capture-pane; tmux answers in milliseconds
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}"  # tmux turns '.' and ':' of names into '_'
TARGET = re.compile(rf"(?P<session>{_NAME}):(?P<window>{_NAME})(?:\.(?P<pane>\d{{1,3}}))?")
TARGET_HELP = 'a tmux target "session:window" or "session:window.pane" (e.g. "swarm:3")'


class BadTarget(ValueError):
    """Not a tmux target this tool accepts; the message says what is expected."""


@dataclass(frozen=True)
class PaneRef:
    """Where an agent's terminal runs: a tmux target and, optionally, the server's socket."""

    target: str  # session:window or session:window.pane
    socket: str | None = None  # tmux -S PATH; None: the default server of the user

    def command(self, *args: str) -> list[str]:
        """``tmux [-S socket] ARGS``."""
        socket = ["-S", self.socket] if self.socket else []
        return [TMUX, *socket, *args]


@dataclass(frozen=True)
class PaneText:
    """One read of a pane: its lines (trailing blanks cut), or why it could not be read."""

    ref: PaneRef
    lines: tuple[str, ...] = ()
    gone: str | None = None  # "tmux pane swarm:3 is gone: can't find window: 3"

    @property
    def ok(self) -> bool:
        """The pane was read."""
        return self.gone is None

    def last(self, count: int) -> list[str]:
        """The last ``count`` lines, control characters escaped (safe to show anywhere)."""
        return [escape_controls(line) for line in self.lines[-count:]] if count > 0 else []


def parse_target(text: str) -> str:
    """``text`` as a tmux target (``session:window[.pane]``); BadTarget otherwise."""
    value = text.strip()
    if not TARGET.fullmatch(value):
        raise BadTarget(f"must be {TARGET_HELP}, not {text!r}")
    return value


def capture(ref: PaneRef, timeout: float = CAPTURE_TIMEOUT_S) -> PaneText:
    """The visible text of the pane ``ref`` (blocking)."""
    args = ref.command("capture-pane", "-p", "-J", "-t", ref.target)
    try:
        done = subprocess.run(
            args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError:
        return PaneText(ref, gone=f"tmux pane {ref.target} cannot be read: tmux is not installed")
    except subprocess.TimeoutExpired:
        return PaneText(ref, gone=f"tmux pane {ref.target}: tmux did not answer in {timeout:g} s")
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = escape_controls(why[-1]) if why else f"tmux exit status {done.returncode}"
        return PaneText(ref, gone=f"tmux pane {ref.target} is gone: {reason}")
    return PaneText(ref, lines=split_lines(done.stdout.decode("utf-8", "replace")))


def capture_all(refs: Sequence[PaneRef], timeout: float = CAPTURE_TIMEOUT_S) -> list[PaneText]:
    """Each pane's text, in order (blocking): one tmux client per server for all its panes
    (``capture-pane ... ; display-message MARK ; capture-pane ...``: starting a client is
    most of a read's cost); a pane that fails (gone) is read alone for its reason, the panes
    after it together again; each alone when the client's output cannot be told apart."""
    read: dict[PaneRef, PaneText] = {}
    for socket in dict.fromkeys(ref.socket for ref in refs):
        group = list(dict.fromkeys(ref for ref in refs if ref.socket == socket))
        texts = _capture_together(group, timeout) if len(group) > 1 else None
        for ref, text in zip(group, texts or [capture(r, timeout) for r in group], strict=True):
            read[ref] = text
    return [read[ref] for ref in refs]


def _capture_together(refs: Sequence[PaneRef], timeout: float) -> list[PaneText] | None:
    """The panes of one server read by one tmux client; None when that did not work."""
    mark = f"swarm-pane-end-{uuid.uuid4().hex}"
    args: list[str] = []
    for ref in refs:
        args += ["capture-pane", "-p", "-J", "-t", ref.target, ";", "display-message", "-p", mark]
        args.append(";")
    try:
        done = subprocess.run(
            refs[0].command(*args[:-1]),
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.decode("utf-8", "replace").split(f"{mark}\n")
    read = len(parts) - 1  # the panes read before a command failed (tmux stops there)
    if done.returncode == 0 and read == len(refs) and not parts[-1]:
        return [PaneText(r, lines=split_lines(t)) for r, t in zip(refs, parts[:-1], strict=True)]
    if done.returncode == 0 or read >= len(refs):
        return None
    # the pane after them failed: alone, it says why (gone); the rest in one client again
    first = [PaneText(r, lines=split_lines(t)) for r, t in zip(refs, parts[:read], strict=False)]
    return [*first, capture(refs[read], timeout), *capture_all(refs[read + 1 :], timeout)]


class SharedReads:
    """Reads of panes from many threads at once (deliveries to different panes, each polling
    its own): those of one tmux server waiting at the same time are made by one tmux client
    (``capture_all``). One thread reads for the others of its server, then hands the next
    batch to one of the threads that came meanwhile; each gets its own pane's text."""

    def __init__(self, timeout: float = CAPTURE_TIMEOUT_S) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._queued: dict[str | None, list[_Read]] = {}
        self._reading: set[str | None] = set()  # servers a thread reads for now
        self.clients = 0  # tmux clients started (a figure for the benches)

    def capture(self, ref: PaneRef) -> PaneText:
        """The visible text of ``ref``, as ``capture`` gives it (blocking)."""
        read = _Read(ref)
        with self._lock:
            self._queued.setdefault(ref.socket, []).append(read)
            lead = ref.socket not in self._reading
            self._reading.add(ref.socket)
        while True:
            if lead:
                self._read_queued(ref.socket)
            read.done.wait()
            if read.error is not None:
                raise read.error  # the batch's read failed: each thread in it says so
            if read.text is not None:
                return read.text
            lead = True  # handed the next batch

    def _read_queued(self, socket: str | None) -> None:
        with self._lock:
            batch = self._queued.pop(socket, [])
        texts: list[PaneText | None] = [None] * len(batch)
        error: Exception | None = None
        try:
            texts = [*capture_all([r.ref for r in batch], self.timeout)] if batch else []
        except Exception as exc:  # not "gone": an error each waiting thread raises
            error = exc
        finally:  # never leave a waiting thread without its text or the error
            with self._lock:
                if batch:
                    self.clients += 1
                for read, text in zip(batch, texts, strict=True):
                    read.text, read.error = text, error
                    read.done.set()
                waiting = self._queued.get(socket)
                if waiting:
                    waiting[0].done.set()  # it reads the next batch (its text still None)
                else:
                    self._reading.discard(socket)


class _Read:
    """One thread's read: its pane, and its text once read."""

    def __init__(self, ref: PaneRef) -> None:
        self.ref = ref
        self.text: PaneText | None = None
        self.error: Exception | None = None
        self.done = threading.Event()


@dataclass(frozen=True)
class PaneWhere:
    """Where a pane is: its server's socket path, its session and its window."""

    socket: str
    session: str
    window_index: str
    window_name: str

    def in_window_of(self, target: str) -> bool:
        """True when ``target`` (``session:window[.pane]``) names this pane's window (by
        its index or its name)."""
        found = TARGET.fullmatch(target)
        return (
            found is not None
            and found["session"] == self.session
            and found["window"] in (self.window_index, self.window_name)
        )


def pane_where(
    pane_id: str,
    socket: str | None,
    env: Mapping[str, str],
    timeout: float = CAPTURE_TIMEOUT_S,
) -> PaneWhere | None:
    """Where pane ``pane_id`` (``%3``: a process in it has it as ``$TMUX_PANE``) is on the
    tmux server of ``socket`` (None: the user's default server, not the caller's ``$TMUX``:
    ``env`` is the caller's environment, passed on without ``TMUX`` and ``TMUX_PANE``); None
    when that server has no such pane or cannot be asked (blocking)."""
    fields = "#{socket_path}\t#{session_name}\t#{window_index}\t#{window_name}"
    args = PaneRef(pane_id, socket).command("display-message", "-p", "-t", pane_id, fields)
    env = {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.rstrip("\n").split("\t")
    if done.returncode != 0 or len(parts) != 4:
        return None
    return PaneWhere(*parts)


def pane_pid(ref: PaneRef, timeout: float = CAPTURE_TIMEOUT_S) -> int | None:
    """The process the pane ``ref`` runs (None: the pane is gone or dead, or tmux cannot
    say) (blocking)."""
    args = ref.command("display-message", "-p", "-t", ref.target, "#{pane_pid} #{pane_dead}")
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    pid, _, dead = done.stdout.strip().partition(" ")
    return int(pid) if done.returncode == 0 and dead == "0" and pid.isdigit() else None


def pane_age_s(ref: PaneRef, timeout: float = CAPTURE_TIMEOUT_S) -> float | None:
    """How long ago the process the pane ``ref`` runs started, in seconds (None: the pane is
    gone or dead, or tmux or ``/proc`` cannot say) (blocking)."""
    pid = pane_pid(ref, timeout)
    return processes.age_s(pid) if pid is not None else None


def split_lines(text: str) -> tuple[str, ...]:
    """Lines with their trailing spaces cut, and no blank lines at the end."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines)
