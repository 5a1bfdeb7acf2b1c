"""A throwaway PostgreSQL cluster for the tests and benchmarks: ``initdb`` + ``pg_ctl``.

The cluster lives in a temporary folder, listens on a free local port with its socket in
that folder, and is stopped and deleted afterwards: no system service is used. ``initdb``
refuses to run as root, so as root the server runs as the ``postgres`` system user
(``runuser``). It runs with ``fsync=off``, ``synchronous_commit=off`` and
``full_page_writes=off``: fast and unsafe on a crash of the machine, which is what a test
cluster wants (never a production setting). The test session's cluster keeps its folder in
memory (``in_memory``: under ``/dev/shm`` when there is one): each test's database is copied
from a template by ``CREATE DATABASE``, whose checkpoint and thousand file copies took 0.3 to
2 s on the disk of a loaded machine and take 0.05 s there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/14/bin",
)
FAST = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=300 -c shared_buffers=64MB"
)
RAM_FOLDER = Path("/dev/shm")  # tmpfs on Linux: the in-memory cluster's folder
RAM_NEEDED = 1 << 30  # free bytes it must have (a container's is often 64 MB)
# A server as a user's would be (PostgreSQL's defaults): every commit flushed to disk.
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


def pg_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, if PostgreSQL is installed."""
    for folder in PG_BIN_DIRS:
        if (Path(folder) / "initdb").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster: its folder, port and superuser."""

    folder: Path
    port: int
    user: str
    listen: str = "127.0.0.1"
    options: str = ""  # more server settings (``-c name=value ...``), after FAST's (they win)

    def url(self, dbname: str = "postgres") -> str:
        """A ``postgresql://`` URL of database ``dbname`` over TCP (no password: trust)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def socket_url(self, dbname: str = "postgres") -> str:
        """The same over the Unix socket in the cluster's folder (no TCP)."""
        return f"postgresql://{self.user}@/{dbname}?host={self.folder}&port={self.port}"


def server_stop(bin_dir: Path, running: Cluster) -> None:
    """Stop the server of ``running`` (``pg_ctl stop -m fast``: sessions are ended)."""
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(running.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )


def server_start(bin_dir: Path, running: Cluster) -> None:
    """Start the server of ``running`` again, on the same port and socket folder."""
    opts = f"-p {running.port} -k {running.folder} -c listen_addresses={running.listen} {FAST}"
    opts += f" {running.options}" if running.options else ""
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(running.folder / "data"),
                "-w",
                "-l",
                str(running.folder / "log"),
                "-o",
                opts,
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _roomy(folder: Path) -> bool:
    """Whether ``folder`` is a writable folder with ``RAM_NEEDED`` bytes free."""
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return False
    found = os.statvfs(folder)
    return found.f_bavail * found.f_frsize >= RAM_NEEDED


@contextlib.contextmanager
def cluster(
    bin_dir: Path,
    also_listen: str = "",
    trust: str = "",
    options: str = "",
    in_memory: bool = False,
) -> Iterator[Cluster]:
    """Start a cluster in a fresh temporary folder; stop it and delete the folder after.

    ``also_listen``: one more address to listen on besides 127.0.0.1; ``trust``: a client
    network (``10.0.0.2/32``) let in without a password, besides this machine's own;
    ``options``: more server settings (``-c name=value ...``; they override FAST's: a
    benchmark that wants a durable server passes ``DURABLE``); ``in_memory``: its folder in
    ``RAM_FOLDER`` when that is a writable folder with ``RAM_NEEDED`` free (else the
    temporary folder, as without)."""
    memory = in_memory and _roomy(RAM_FOLDER)
    folder = Path(tempfile.mkdtemp(prefix="swarm-pg-", dir=RAM_FOLDER if memory else None))
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    user,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        if trust:
            with (data / "pg_hba.conf").open("a", encoding="utf-8") as hba:
                hba.write(f"host all all {trust} trust\n")
        listen = ",".join(a for a in ("127.0.0.1", also_listen) if a)
        running = Cluster(folder, port, user, listen, options)
        server_start(bin_dir, running)
        yield running
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
