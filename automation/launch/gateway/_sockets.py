"""A Unix socket for one agent: bound at a path swarm chose, readable and writable by its
owner only; a socket left there by an earlier run is replaced, anything else there is an
error (never unlinked, never followed)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path

MAX_PATH_BYTES = 107  # sun_path's 108 bytes, less the terminating null


class SocketPathError(Exception):
    """A socket path that cannot be bound (too long, or something else is there)."""


def bind_unix(path: Path) -> socket.socket:
    """A listening stream socket bound at ``path``, mode 0600."""
    raw = os.fsencode(path)
    if len(raw) > MAX_PATH_BYTES:
        raise SocketPathError(f"socket path too long ({len(raw)} bytes, at most 107): {path}")
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise SocketPathError(f"not a socket, left alone: {path}")
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o177)
        try:
            sock.bind(raw)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def unlink_socket(path: Path) -> None:
    """Remove the socket at ``path`` if one is there."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
