"""The ``swarm`` CLI in a child process forked from one that has already imported it.

The suite runs the CLI about a thousand times through :func:`tests.helpers.run_cli`, and each
run spent ~0.45 s of CPU starting Python and importing swarm before doing anything: ~470 s of
a 2-core machine's time per suite. A zygote per test process imports the CLI once; each run
is then ``fork()`` of it: a process of its own with the caller's arguments, environment,
working folder, stdout and stderr (files), stdin from ``/dev/null``, its exit status as
``subprocess.run`` gives it (negative for a signal), its threads and ``atexit`` handlers
finished as the interpreter finishes them (not its teardown of the modules: ``_leave``).
What it cannot give a child is another start-up: an environment that changes how Python
starts (``PYTHON*``, the locale) runs in a fresh process instead, as does a run while another
is under way (runs at once stay at once), unless each has a zygote of its own:
``Zygote.sibling()`` forks one from a zygote already started.
``SWARM_TEST_CLI_FORK=0`` turns the zygote off.

Run as ``python -m tests.cli_zygote``: one JSON request per line on stdin (``argv``, ``env``,
``cwd``, ``out``, ``err``), answered ``pid N`` when forked and ``exit N`` when it ended.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, NoReturn

STARTUP_KEYS = ("LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8")
# what a typical command imports; each module reads its settings when called, not on import
PRELOAD = (
    "bot.cli.main",
    "bot.app",
    "bot.cli.args",
    "bot.cli.trust",
    "bot.config",
    "bot.errors",
    "core.logs.setup",
    "core.store.sqlite",
)
PRELOAD_IF_INSTALLED = ("core.store.postgres.store",)  # psycopg: the PostgreSQL tests' runs


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    for name in PRELOAD_IF_INSTALLED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from bot.cli.main import build_parser
    from core import faces

    build_parser()  # imports every command's module
    faces.load_all()  # the lazy faces' modules, as the commands ask for them


def _serve(requests: int, replies: int) -> None:
    """Fork a child per request until stdin ends; the zygote itself never runs the CLI. A
    ``sibling`` request's child is another zygote, serving on the two FIFOs it names until
    its caller closes them (reaped when this zygote ends).

    Plain file descriptors only: a child leaves through here by ``SystemExit``, and a file
    object or ``with`` on the way out would act on descriptors the child has closed.
    """
    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(requests, 65536)
            if not chunk:
                return
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        pid = os.fork()
        if pid == 0 and "sibling" in request:
            _sibling(request["sibling"], requests, replies)  # never returns
        if pid == 0:
            _child(request, requests, replies)  # never returns
        os.write(replies, f"pid {pid}\n".encode())
        if "sibling" in request:
            continue
        _, status = os.waitpid(pid, 0)
        os.write(replies, f"exit {os.waitstatus_to_exitcode(status)}\n".encode())


def _sibling(fifos: list[str], requests: int, replies: int) -> None:
    """Become another zygote (nothing imported again), serving on ``fifos``."""
    for fd in (requests, replies):
        os.close(fd)
    mine = os.open(fifos[0], os.O_RDONLY)  # the caller opens them in the same order
    theirs = os.open(fifos[1], os.O_WRONLY)
    _serve(mine, theirs)
    os._exit(0)


def _child(request: dict[str, object], requests: int, replies: int) -> None:
    """Become the CLI run: its files, folder, environment and arguments; exit as it exits."""
    import random

    for fd in (requests, replies):
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, key in ((1, "out"), (2, "err")):
        target = os.open(str(request[key]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(str(request["cwd"]))
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    random.seed()  # a fresh process would not share its parent's random state
    argv = request["argv"]
    assert isinstance(argv, list)
    cli = sys.modules["bot.cli.main"]
    sys.argv = [str(cli.__file__), *map(str, argv)]
    _leave(cli.main)  # as ``python -m bot.cli.main`` ends


def _leave(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` and end the process as the interpreter would at its end: the status of
    its ``SystemExit`` (its message on stderr), a traceback and 1 for any other exception,
    death by SIGINT for an interrupt; its threads joined, then its ``atexit`` handlers, its
    output flushed. Then ``os._exit``: the interpreter's own teardown would clear every
    inherited module, writing to each page the fork shares with the zygote (~40 ms of CPU
    a run, over half of a short command's)."""
    import traceback

    interrupted = False
    try:
        code = main()
    except SystemExit as ended:
        code = ended.code
    except KeyboardInterrupt:
        traceback.print_exc()
        code, interrupted = 1, True
    except BaseException:  # as the interpreter's own end prints any
        traceback.print_exc()
        code = 1
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # the interpreter's first step
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit((code or 0) & 0xFF)


class Zygote:
    """One zygote process for this test process; runs one CLI at a time (else: no)."""

    def __init__(self, root: Path, started_with: Mapping[str, str] | None = None) -> None:
        """The zygote of ``root`` (the repository), started with ``started_with`` (default:
        this process's environment) less swarm's settings and the display."""
        base = os.environ if started_with is None else started_with
        env = {k: v for k, v in base.items() if not k.startswith("SWARM_")}
        env.pop("DISPLAY", None)
        self.startup = {k: v for k, v in env.items() if _startup_key(k)}
        self.process: subprocess.Popen[bytes] | _Forked = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env=env,
        )
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="swarm-cli-zygote-"))
        self._buffer = b""

    def sibling(self) -> Zygote:
        """Another zygote, forked from this one (a fork, not a second start importing
        swarm): runs at once, each on a zygote of its own, for the price of one start."""
        made = object.__new__(Zygote)
        made.startup, made.lock, made._buffer = self.startup, threading.Lock(), b""
        made.folder = Path(tempfile.mkdtemp(prefix="swarm-cli-zygote-"))
        fifos = [made.folder / "requests", made.folder / "replies"]
        for fifo in fifos:
            os.mkfifo(fifo, 0o600)
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(json.dumps({"sibling": list(map(str, fifos))}).encode())
            self.process.stdin.write(b"\n")
            self.process.stdin.flush()
            pid = int(self._reply("pid", time.monotonic() + 30))
        made.process = _Forked(pid, fifos[0].open("wb"), fifos[1].open("rb"))
        return made

    def fits(self, env: Mapping[str, str]) -> bool:
        """True when a process started with ``env`` would start as the zygote did."""
        mine = {k: v for k, v in env.items() if _startup_key(k)}
        return mine == self.startup and self.process.poll() is None

    def run(
        self, argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float
    ) -> tuple[int, str, str] | None:
        """``(exit status, stdout, stderr)`` of the CLI with ``argv``; None when the zygote
        is busy with another run. TimeoutExpired as ``subprocess.run`` raises it."""
        if not self.lock.acquire(blocking=False):
            return None
        try:
            return self._run(argv, env, cwd, timeout)
        finally:
            self.lock.release()

    def _run(
        self, argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float
    ) -> tuple[int, str, str]:
        out, err = self.folder / "out", self.folder / "err"
        request = {"argv": argv, "env": dict(env), "cwd": str(cwd), "out": str(out)}
        request["err"] = str(err)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        pid = int(self._reply("pid", deadline + 30))
        try:
            code = int(self._reply("exit", deadline))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._reply("exit", time.monotonic() + 30)
            raise subprocess.TimeoutExpired(
                [sys.executable, "-m", "bot.cli.main", *argv], timeout, _read(out), _read(err)
            ) from None
        return code, _text(_read(out)), _text(_read(err))

    def _reply(self, word: str, deadline: float) -> str:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise subprocess.TimeoutExpired("cli zygote", left)
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("the CLI zygote ended")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        said, value = line.decode().split(" ", 1)
        assert said == word, line
        return value

    def close(self) -> None:
        """End the zygote and remove its files."""
        import shutil

        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class _Forked:
    """A sibling zygote, as much of a ``Popen`` as ``Zygote`` uses: its pipes, whether it
    ended (a zombie of the zygote it was forked from, until that one ends), a kill."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid, self.stdin, self.stdout = pid, stdin, stdout

    def poll(self) -> int | None:
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return 0
        return 0 if state in ("Z", "X") else None

    def wait(self, timeout: float | None = None) -> int:
        limit = 3600.0 if timeout is None else timeout
        deadline = time.monotonic() + limit
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"cli zygote {self.pid}", limit)
            time.sleep(0.01)
        return 0

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def _startup_key(key: str) -> bool:
    return key.startswith("PYTHON") or key in STARTUP_KEYS


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _text(data: bytes) -> str:
    """Decoded as ``subprocess.run(..., text=True)`` decodes (the locale's encoding, universal
    newlines)."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_shared: list[Zygote | None] = []


def shared(root: Path) -> Zygote | None:
    """This process's zygote, started on first use; None when turned off."""
    if not _shared:
        zygote = None
        if os.environ.get("SWARM_TEST_CLI_FORK", "1") != "0":
            zygote = Zygote(root)
            atexit.register(zygote.close)
        _shared.append(zygote)
    return _shared[0]


_by_startup: dict[frozenset[tuple[str, str]], Zygote] = {}


def run(
    argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``swarm ARGV`` as ``subprocess.run(..., capture_output=True, text=True)`` gives it: in
    a child of this process's zygote for ``env``'s start-up (one started on first use), else
    (turned off, or busy with another run) a fresh process."""
    command = [sys.executable, "-m", "bot.cli", *argv]
    zygote = _zygote_for(env)
    ran = zygote.run(argv, env, cwd, timeout) if zygote is not None else None
    if ran is None:
        return subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    return subprocess.CompletedProcess(command, *ran)


def _zygote_for(env: Mapping[str, str]) -> Zygote | None:
    if os.environ.get("SWARM_TEST_CLI_FORK", "1") == "0":
        return None
    key = frozenset((k, v) for k, v in env.items() if _startup_key(k))
    zygote = _by_startup.get(key)
    if zygote is None or zygote.process.poll() is not None:
        # this process's environment but for the start-up: a zygote must not carry what
        # marks one test's processes (its home, its tmux folder) into another's
        started = {"PATH": os.environ.get("PATH", os.defpath), **dict(key)}
        zygote = _by_startup[key] = Zygote(Path(__file__).resolve().parents[1], started)
        atexit.register(zygote.close)
    return zygote


def main() -> None:
    """The zygote: import the CLI, keep the protocol off fds 0 and 1, freeze what it
    imported out of the collector's sight, serve. Frozen, a child's collections (and its
    exit's) leave the inherited objects alone instead of writing to every page of them, each
    a copy-on-write fault: ~0.05 CPU-s a run instead of ~0.23."""
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    _preload()
    gc.freeze()
    _serve(requests, replies)


if __name__ == "__main__":
    main()
