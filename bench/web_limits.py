"""The web port under abuse: a real ``swarm web`` process, unauthenticated 200 MB POSTs and
bare TCP connections; its RSS, ``/metrics`` latency and open connections.

    .venv/bin/python bench/web_limits.py [--body-mb 200] [--parallel 4] [--bare 300]

Run it from a checkout's root: the ``swarm`` of that checkout is measured (``python -m
bot.cli`` in the current folder). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHUNK = b"x" * 1_000_000


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(port: int, path: str, timeout: float = 30) -> tuple[int, float]:
    """Status and seconds of one GET (0 when it failed)."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
            while sock.recv(65536):
                pass
        return int(head.split()[1]), time.perf_counter() - start
    except (OSError, IndexError, ValueError):
        return 0, time.perf_counter() - start


def big_post(port: int, megabytes: int, result: list[str]) -> None:
    """POST ``megabytes`` MB to /api/v1/tasks without a token; the status line in ``result``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
            sock.sendall(
                f"POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\n"
                f"Content-Length: {megabytes * len(CHUNK)}\r\n\r\n".encode()
            )
            try:
                for _ in range(megabytes):
                    sock.sendall(CHUNK)
            except OSError:
                pass  # refused early: the server closed
            result.append(sock.recv(64).split(b"\r\n")[0].decode() or "closed")
    except OSError as exc:
        result.append(f"error {exc.__class__.__name__}")


def start(home: Path, port: int, nofile: int | None) -> subprocess.Popen[bytes]:
    """``swarm web`` on ``port`` (under ``ulimit -n nofile`` when given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {
        "SWARM_HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "SWARM_LOG_FILE": str(home / "swarm.log"),
    }

    def limit() -> None:
        if nofile:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def bodies(megabytes: int, parallel: int) -> dict[str, object]:
    """RSS and /metrics latency around one, then ``parallel``, big unauthenticated POSTs."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(Path(tmp), port, None)
        try:
            out: dict[str, object] = {
                "rss_idle_mb": round(rss_mb(proc.pid), 1),
                "metrics_idle_ms": round(get(port, "/metrics")[1] * 1000),
            }
            for count in (1, parallel):
                results: list[str] = []
                peak = 0.0
                slowest = 0.0
                threads = [
                    threading.Thread(target=big_post, args=(port, megabytes, results))
                    for _ in range(count)
                ]
                for thread in threads:
                    thread.start()
                while any(t.is_alive() for t in threads):
                    peak = max(peak, rss_mb(proc.pid))
                    slowest = max(slowest, get(port, "/metrics")[1])
                    time.sleep(0.05)
                out[f"posts_{count}"] = {
                    "answers": results,
                    "rss_peak_mb": round(peak, 1),
                    "metrics_slowest_ms": round(slowest * 1000),
                }
            return out
        finally:
            proc.terminate()
            proc.wait(20)


def bare(connections: int, nofile: int) -> dict[str, object]:
    """Open ``connections`` bare TCP connections under ``ulimit -n nofile``: the descriptors
    the server holds after 1 s and 10 s, whether ``/login`` answers, how big the log grew."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start(Path(tmp), port, nofile)
        held = []
        try:
            for _ in range(connections):
                sock = socket.socket()
                sock.settimeout(1)
                with contextlib.suppress(OSError):
                    sock.connect(("127.0.0.1", port))
                held.append(sock)
            time.sleep(1)
            fds_1s = len(os.listdir(f"/proc/{proc.pid}/fd"))
            time.sleep(9)
            status, seconds = get(port, "/login", timeout=10)
            log = Path(tmp) / "swarm.log"
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
            return {
                "connections": connections,
                "nofile": nofile,
                "server_fds_after_1s": fds_1s,
                "server_fds_after_10s": fds,
                "login_status": status,
                "login_ms": round(seconds * 1000),
                "log_bytes": log.stat().st_size if log.exists() else 0,
                "accept_errors_logged": log.read_text().count("out of system resource")
                if log.exists()
                else 0,
            }
        finally:
            for sock in held:
                sock.close()
            proc.terminate()
            proc.wait(20)


def main() -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--body-mb", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--bare", type=int, default=300)
    parser.add_argument("--nofile", type=int, default=256)
    args = parser.parse_args()
    print(
        json.dumps(
            {"bodies": bodies(args.body_mb, args.parallel), "bare": bare(args.bare, args.nofile)},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
