"""The dashboard's port under a local connection flood: a real ``swarm web``, ``--flood``
connections each sending ``GET / HTTP/1.1`` and nothing more, each opened again as soon as the
server closes it, while an admin asks ``/api/v1/status`` with its token ``--asks`` times.

    .venv/bin/python bench/port_flood.py [--flood 300] [--asks 20] [--seconds 12]

Run it from a checkout's root: the ``swarm`` of that checkout is measured. Prints one JSON
object: the admin's answers by status, their slowest time, the server's RSS at rest, at its
peak during the flood and 5 s after it, and how many connections the flood opened.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.web_limits import free_port, rss_mb  # noqa: E402

FLOOD_LINE = b"GET / HTTP/1.1\r\n"  # a request line, then nothing: the headers never end


def flood(port: int, connections: int, seconds: float, opened: Any) -> None:
    """Hold ``connections`` idle connections to ``port`` for ``seconds``, each opened again
    (and its line sent) when the server closes it."""
    selector = selectors.DefaultSelector()

    def open_one() -> None:
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError, OSError):
            sock.connect(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_WRITE, "connecting")

    for _ in range(connections):
        open_one()
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if key.data == "connecting":
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    with contextlib.suppress(OSError):
                        sock.send(FLOOD_LINE)
                        count += 1
                        selector.modify(sock, selectors.EVENT_READ, "open")
                        continue
            else:
                with contextlib.suppress(OSError):
                    if sock.recv(4096):
                        continue  # an answer (503): wait for the close
            selector.unregister(sock)
            sock.close()
            open_one()
    opened.value = count
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]


def ask(port: int, token: str, timeout: float = 10) -> tuple[int, float]:
    """Status and seconds of the admin's ``GET /api/v1/status`` (0: no answer)."""
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(
                f"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
            while sock.recv(65536):
                pass
        return int(head.split()[1]), time.perf_counter() - start
    except (OSError, IndexError, ValueError):
        return 0, time.perf_counter() - start


def start(home: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """``swarm web`` on ``port`` and an admin token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWARM_")}
    env |= {
        "SWARM_HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "SWARM_LOG_FILE": str(home / "swarm.log"),
    }
    made = subprocess.run(
        [sys.executable, "-m", "bot.cli", "web", "token", "create", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = next(w for w in made.stdout.split() if len(w) > 30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc, token


def measure(connections: int, asks: int, seconds: float) -> dict[str, object]:
    """The flood against a fresh ``swarm web``; the admin's answers and the server's RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc, token = start(Path(tmp), port)
        try:
            rss_rest = rss_mb(proc.pid)
            opened = multiprocessing.Value("i", 0)
            flooder = multiprocessing.Process(
                target=flood, args=(port, connections, seconds, opened)
            )
            flooder.start()
            time.sleep(1.5)  # the flood is on
            statuses: Counter[int] = Counter()
            slowest = 0.0
            peak = rss_mb(proc.pid)
            gap = max(0.05, (seconds - 3) / asks)
            for _ in range(asks):
                status, took = ask(port, token)
                statuses[status] += 1
                slowest = max(slowest, took)
                peak = max(peak, rss_mb(proc.pid))
                time.sleep(gap)
            flooder.join(seconds + 10)
            time.sleep(5)
            return {
                "flood": connections,
                "flood_connections_opened": opened.value,
                "admin_answers": {str(k): v for k, v in sorted(statuses.items())},
                "admin_slowest_ms": round(slowest * 1000),
                "rss_rest_mb": round(rss_rest, 1),
                "rss_peak_mb": round(peak, 1),
                "rss_after_mb": round(rss_mb(proc.pid), 1),
            }
        finally:
            proc.terminate()
            proc.wait(20)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=int, default=300)
    parser.add_argument("--asks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=12)
    args = parser.parse_args()
    print(json.dumps(measure(args.flood, args.asks, args.seconds), indent=1))


if __name__ == "__main__":
    main()
