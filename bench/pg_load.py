"""What a benchmark run costs the machine: CPU per part and PostgreSQL's connections.

``Load(server)`` is a context manager around one run of ``bench/scale.py``'s
``lifecycles()``; pass its ``watch`` as that function's ``watch`` argument. A thread of its
own samples, every ``period_s``:

- CPU (user + system, from ``/proc``) of this process's threads, split into the event loop
  (the scheduler's and every node's asyncio code), the coordinator's store threads, the
  nodes' store threads and the rest (the sampler itself, psycopg_pool's helpers);
- CPU of the cluster's processes: the coordinator's write backend, the nodes' write
  backends, LISTEN backends, other client backends (readers, the bench's poll) and the
  server's own background processes (checkpointer, WAL writer, autovacuum);
- the client connections open (peak, and of them LISTEN), and how many connection attempts
  the server refused as "too many clients" (counted in its log), so a refusal is a figure in
  the output, never silent.

``result()`` gives cores used per part (CPU seconds / wall seconds of the window from
``watch`` to the end). Linux only (``/proc``).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.pgcluster import Cluster

TICK = os.sysconf("SC_CLK_TCK")
REFUSED = "too many clients"


def _cpu(stat_path: str) -> float | None:
    """User + system CPU seconds of one process or thread (None when it is gone)."""
    try:
        text = Path(stat_path).read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(entry))
    return found


def server_cpu(server: Cluster) -> dict[int, float]:
    """CPU seconds so far of the cluster's postmaster and each of its processes (backends
    and background), by pid; under key 0, that of its processes that have ended (a
    backend whose client disconnected: the postmaster's ``cutime`` + ``cstime``)."""
    postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    found = {}
    for pid in [postmaster, *_children(postmaster)]:
        if (cpu := _cpu(f"/proc/{pid}/stat")) is not None:
            found[pid] = cpu
    text = Path(f"/proc/{postmaster}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    found[0] = (int(fields[13]) + int(fields[14])) / TICK  # cutime, cstime (fields 16, 17)
    return found


def _threads(executor: Any) -> list[int]:
    """The native ids of a ``ThreadPoolExecutor``'s threads (none for ``None``)."""
    return [t.native_id for t in getattr(executor, "_threads", ()) if t.native_id]


class Load:
    """Samples CPU and connections during one run (see the module's docstring)."""

    def __init__(self, server: Cluster, period_s: float = 0.25) -> None:
        self.server = server
        self.period_s = period_s
        self.log = server.folder / "log"
        self.postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._sample, name="bench-load", daemon=True)
        self._first: dict[tuple[str, int], float] = {}
        self._last: dict[tuple[str, int], float] = {}
        self._roles: dict[int, str] = {}  # backend pid -> what it serves
        self._services: tuple[Any, list[Any]] | None = None
        self._started: float | None = None
        self._ended = 0.0
        self.peak_connections = 0
        self.peak_listen = 0
        self._refused_before = self._refusals()

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def watch(self, coordinator: Any, nodes: list[Any]) -> None:
        """Called by ``lifecycles()`` once its services are open: the window starts."""
        with self._lock:  # the sampler thread starts its window at its next sample
            self._services = (coordinator, nodes)
            self._first.clear()
            self._last.clear()
            self._started = time.perf_counter()

    def _refusals(self) -> int:
        try:
            return self.log.read_text(errors="replace").count(REFUSED)
        except OSError:
            return 0

    def _sample(self) -> None:
        with psycopg.connect(self.server.url(), autocommit=True) as admin:
            me = admin.info.backend_pid
            while not self._stop.is_set():
                if self._started is not None:
                    self._once(admin, me)
                self._stop.wait(self.period_s)
            if self._started is not None:
                self._once(admin, me)

    def _once(self, admin: psycopg.Connection[Any], me: int) -> None:
        with self._lock:
            self._sample_once(admin, me)

    def _sample_once(self, admin: psycopg.Connection[Any], me: int) -> None:
        rows = admin.execute(
            "SELECT pid, backend_type, query FROM pg_stat_activity WHERE pid <> %s", (me,)
        ).fetchall()
        clients = [r for r in rows if r[1] == "client backend"]
        listens = [r for r in clients if str(r[2]).startswith("LISTEN")]
        self.peak_connections = max(self.peak_connections, len(clients))
        self.peak_listen = max(self.peak_listen, len(listens))
        for pid, kind, query in rows:
            if pid not in self._roles or self._roles[pid] == "other client backends":
                self._roles[pid] = self._role(pid, kind, str(query))
        now: dict[tuple[str, int], float] = {}
        for pid in _children(self.postmaster):
            if pid != me and (cpu := _cpu(f"/proc/{pid}/stat")) is not None:
                now[("pg", pid)] = cpu
        for tid in os.listdir("/proc/self/task"):
            if (cpu := _cpu(f"/proc/self/task/{tid}/stat")) is not None:
                now[("py", int(tid))] = cpu
        fresh = not self._last  # the window's first sample: what ran before is not its
        for key, cpu in now.items():
            self._first.setdefault(key, cpu if fresh else 0.0)  # born later: all of it
            self._last[key] = cpu
        self._ended = time.perf_counter()

    def _role(self, pid: int, kind: str, query: str) -> str:
        if kind != "client backend":
            return "server background"
        if self._services is not None:
            coordinator, nodes = self._services
            if pid == _writer_pid(coordinator):
                return "coordinator writer backend"
            if pid in {_writer_pid(n) for n in nodes}:
                return "node writer backends"
        return "LISTEN backends" if query.startswith("LISTEN") else "other client backends"

    def result(self) -> dict[str, Any]:
        """Cores used per part over the window, peak connections, refusals."""
        wall = max(self._ended - (self._started or self._ended), 1e-9)
        parts: dict[str, float] = {}
        groups = self._thread_groups()
        for (kind, ident), cpu in self._last.items():
            spent = cpu - self._first.get((kind, ident), cpu)
            if kind == "pg":
                name = "pg: " + self._roles.get(ident, "server background")
            else:
                name = "python: " + groups.get(ident, "other threads")
            parts[name] = parts.get(name, 0.0) + spent
        python = sum(v for k, v in parts.items() if k.startswith("python"))
        pg = sum(v for k, v in parts.items() if k.startswith("pg"))
        return {
            "window_s": round(wall, 2),
            "cores": {k: round(v / wall, 3) for k, v in sorted(parts.items())},
            "cpu_s": {k: round(v, 2) for k, v in sorted(parts.items())},
            "cores_python_process": round(python / wall, 3),
            "cores_postgres": round(pg / wall, 3),
            "peak_client_connections": self.peak_connections,
            "peak_listen_connections": self.peak_listen,
            "refused_too_many_clients": self._refusals() - self._refused_before,
        }

    def _thread_groups(self) -> dict[int, str]:
        groups = {threading.main_thread().native_id or 0: "event loop"}
        if self._services is None:
            return groups
        coordinator, nodes = self._services
        for service, name in [(coordinator, "coordinator store threads")] + [
            (n, "node store threads") for n in nodes
        ]:
            db = service.store._db  # its pools' threads: the store's insides, not a door
            for tid in _threads(getattr(db, "_pool", None)) + _threads(
                getattr(db, "_readers", None)
            ):
                groups[tid] = name
        return groups


def _writer_pid(service: Any) -> int | None:
    try:
        return int(service.store.backend_pid())
    except Exception:  # SQLite, or the connection is being replaced
        return None
