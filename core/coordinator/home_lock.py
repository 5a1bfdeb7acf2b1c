"""One coordinator per SWARM_HOME: an exclusive lock file held for the life of the process.

``$SWARM_HOME/coordinator.lock`` is locked with ``flock`` (released by the kernel when the
process ends, even on kill -9, so a stale file never blocks a restart) and holds the
holder's pid and start time, which a refused second coordinator names. The file is never
deleted: a new holder locks the same file and overwrites its contents.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from types import TracebackType

from core.errors import InvalidState
from core.formats.timetext import local_text
from core.privacy.files import make_dirs, open_file, write_file
from core.protocols import Clock, PeriodicTimer

log = logging.getLogger(__name__)

LOCK_NAME = "coordinator.lock"
HEARTBEAT_NAME = "coordinator.heartbeat"
HEARTBEAT_S = 10.0  # how often the scheduler loop says it is alive


class AlreadyRunning(InvalidState):
    """Another coordinator holds this SWARM_HOME."""


class CoordinatorLock:
    """Hold ``$SWARM_HOME/coordinator.lock`` from ``acquire`` to ``release``."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the holder (``pid 1234 since 08:15``)."""
        make_dirs(self.path.parent)
        fd = open_file(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(fd)
            os.close(fd)
            raise AlreadyRunning(
                f"already running: {holder} (another coordinator holds {self.path}; stop it first)"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {time.time():.3f}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next coordinator in (the file stays)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> CoordinatorLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def running_coordinator(home: Path) -> tuple[int, float] | None:
    """The pid and start time (epoch seconds) of the coordinator holding ``home``, if any.

    Read without locking (a probe lock could make a starting coordinator fail): the holder
    writes its pid when it takes the lock and empties the file when it lets go; a pid that
    no longer runs (killed) is not running.
    """
    try:
        raw = (home / LOCK_NAME).read_text(encoding="ascii", errors="replace").split()
        pid, started = int(raw[0]), float(raw[1])
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # runs, as another user
    return pid, started


class Heartbeat(PeriodicTimer):
    """A timer of the scheduler loop that writes ``pid time`` to
    ``$SWARM_HOME/coordinator.heartbeat`` at start and every ``every_s``: proof that the
    loop itself runs, not only the process (a blocked loop stops beating). The last beat
    stays when the coordinator stops: it says when the loop last ran."""

    def __init__(self, home: Path, clock: Clock, every_s: float = HEARTBEAT_S) -> None:
        super().__init__(clock, every_s)
        self.path = home / HEARTBEAT_NAME

    async def run(self) -> int:
        """Write one beat (atomically: a reader never sees half a line); 1 if written."""
        temp = self.path.with_name(f".{HEARTBEAT_NAME}.{os.getpid()}")
        try:  # on PostgreSQL nothing else may have made the home folder yet
            make_dirs(self.path.parent)
            write_file(temp, f"{os.getpid()} {self.clock.now():.3f}\n".encode("ascii"))
            os.replace(temp, self.path)
        except OSError as exc:  # a full disk must not stop the coordinator
            log.warning("heartbeat not written to %s: %s", self.path, exc)
            return 0
        return 1


def last_heartbeat(home: Path, pid: int) -> float | None:
    """When the coordinator ``pid`` of ``home`` last beat (epoch seconds), if it has."""
    try:
        raw = (home / HEARTBEAT_NAME).read_text(encoding="ascii", errors="replace").split()
        beat_pid, beat = int(raw[0]), float(raw[1])
    except (OSError, IndexError, ValueError):
        return None
    return beat if beat_pid == pid else None


def _describe(fd: int) -> str:
    """``pid 1234 since 08:15`` from the holder's lock file (local time)."""
    raw = os.pread(fd, 100, 0).decode("ascii", errors="replace").split()
    try:
        pid, started = int(raw[0]), float(raw[1])
    except (IndexError, ValueError):
        return "pid unknown (the holder is starting)"
    return f"pid {pid} since {local_text(started, '%H:%M')}"
